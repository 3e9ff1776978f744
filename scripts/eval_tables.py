#!/usr/bin/env python3
"""Collects the JSON outputs of scripts/eval.sh into the markdown tables of
docs/results.md (standard library only).

    python3 scripts/eval_tables.py [OUT]      (default OUT: .data/eval)
"""
import glob
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else ".data/eval"


def load(path):
    with open(path) as f:
        return json.load(f)


# CWRU: every fault file's AUC, one column group per model.
evals = {}
for p in sorted(glob.glob(os.path.join(out, "cwru-*-eval.json"))):
    model = os.path.basename(p)[len("cwru-"):-len("-eval.json")]
    evals[model] = load(p)
if evals:
    models = list(evals)
    print("### CWRU seeded faults: AUC of each fault file's 0.2 s windows against the last 20% of the healthy recording\n")
    head = "| fault file | windows |" + "".join(f" {m} AUC | {m} pAUC | {m} above thr. | {m} margin |" for m in models)
    print(head)
    print("|---|---|" + "---|---|---|---|" * len(models))
    # margin: the fault file's lowest window score minus the highest healthy
    # window score, in units of the healthy windows' spread (max - min).
    def margin(ev, f):
        normal = [it["score"] for it in ev["items"] if it["label"] == 0]
        fault = [it["score"] for it in ev["items"] if it["file"] == f]
        return (min(fault) - max(normal)) / (max(normal) - min(normal))
    files = [p["file"] for p in evals[models[0]]["per_file"]]
    for f in files:
        row = f"| {os.path.basename(f)} |"
        n = None
        cells = ""
        for m in models:
            pf = next(p for p in evals[m]["per_file"] if p["file"] == f)
            n = pf["items"]
            cells += f" {pf['auc']:.4f} | {pf['pauc']:.4f} | {pf['flagged']}/{pf['items']} | {margin(evals[m], f):+.1f} |"
        print(row + f" {n} |" + cells)
    row = "| **all faults** | |"
    for m in models:
        r = evals[m]["report"]
        row += f" **{r['auc']:.4f}** | **{r['pauc']:.4f}** | F1 {r['f1']:.3f} | |"
    print(row)
    normal = sum(1 for it in evals[models[0]]["items"] if it["label"] == 0)
    print(f"\nHealthy windows scored: {normal}. pAUC: DCASE definition (raw area for FPR <= 0.1, divided by 0.1). "
          "Margin: the fault file's lowest window score minus the highest healthy window score, in units of the "
          "healthy windows' range (max - min); positive means every fault window is above every healthy one.\n")

# FEMTO: first persistent alarm and flagged share, model and indicators.
for bearing in ("Bearing2_1", "Bearing2_2"):
    tls = sorted(glob.glob(os.path.join(out, f"femto-{bearing}-*", "timeline.json")))
    if not tls:
        continue
    print(f"### FEMTO {bearing}\n")
    models, indicators = [], {}
    for p in tls:
        tl = load(p)
        n = len(tl["items"])
        models.append((tl["series"][0], n, tl))
        for s in tl["series"][1:]:
            indicators.setdefault(s["name"], (s, n, tl))
    rows = models + list(indicators.values())
    tl = rows[0][2]
    b0, b1 = tl["baseline"]
    print(f"{n} snapshots; threshold learned on snapshots {b0}-{b1 - 1} (15-20% of life), monitoring from {b1}; "
          f"alarm = 3 consecutive snapshots above the threshold.\n")
    print("| series | threshold | first persistent alarm | % of life | minutes before the end | flagged 20-50% of life |")
    print("|---|---|---|---|---|---|")
    for s, n, _ in rows:
        if s["first_alarm"] >= 0:
            alarm = os.path.basename(s["first_alarm_item"])
            pct = f"{s['first_alarm_life_pct']:.1f}"
            mins = f"{s['first_alarm_minutes_before_end']:.1f}"
        else:
            alarm, pct, mins = "none", "-", "-"
        print(f"| {s['name']} | {s['threshold']['value']:.4g} ({s['threshold']['method']}) | {alarm} | {pct} | {mins} | "
              f"{100 * s['flagged_share']:.1f}% ({s['flagged_items']}/{s['share_items']}) |")
    print()

# FEMTO seed sweep: the model's first alarm and flagged share per seed.
sweep = sorted(glob.glob(os.path.join(out, "femto-seeds", "*", "timeline.json")))
if sweep:
    runs = {}
    for p in sweep:
        name = os.path.basename(os.path.dirname(p))  # Bearing2_1-dense-ae-seed3
        key, seed = name.rsplit("-seed", 1)
        s = load(p)["series"][0]
        runs.setdefault(key, []).append((int(seed), s))
    print("### FEMTO, seeds 1-5: the model's first persistent alarm (% of life) and flagged share 20-50% of life\n")
    print("| bearing, model | " + " | ".join(f"seed {sd}" for sd, _ in sorted(next(iter(runs.values())))) + " |")
    print("|---|" + "---|" * len(next(iter(runs.values()))))
    for key, rs in runs.items():
        cells = []
        for _, s in sorted(rs):
            a = f"{s['first_alarm_life_pct']:.1f}%" if s["first_alarm"] >= 0 else "none"
            cells.append(f"{a}, {100 * s['flagged_share']:.1f}%")
        print(f"| {key} | " + " | ".join(cells) + " |")
    print()

# DCASE: AUC and the anomaly's rank.
for p in sorted(glob.glob(os.path.join(out, "dcase-*-eval.txt"))):
    model = os.path.basename(p)[len("dcase-"):-len("-eval.txt")]
    print(f"### DCASE 2020 id_00, {model}\n")
    with open(p) as f:
        print("```\n" + f.read().strip() + "\n```\n")
    t = os.path.join(out, f"dcase-{model}-fit.txt")
    if os.path.exists(t):
        with open(t) as f:
            print("```\n" + f.read().strip() + "\n```\n")
