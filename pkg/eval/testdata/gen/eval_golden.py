#!/usr/bin/python3
"""Golden values for pkg/eval, from scikit-learn.

Run from pkg/eval:  /usr/bin/python3 testdata/gen/eval_golden.py
It rewrites testdata/eval_golden.json. Generated with Debian's
python3-sklearn 1.2.1 and python3-numpy 1.24.2.

For every case: sklearn.metrics.roc_auc_score(y, s) ("auc"),
roc_auc_score(y, s, max_fpr=p) (McClish-standardised, "mcclish"), and the
raw partial area from 0 to p computed exactly as sklearn does before it
standardises (roc_curve, then np.interp at p, then auc) ("area"); DCASE's
pAUC is area / p. Plus precision, recall and F1 of "score > threshold".
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (auc, f1_score, precision_score, recall_score,
                             roc_auc_score, roc_curve)


def raw_partial_area(y, s, p):
    # sklearn/metrics/_ranking.py _binary_roc_auc_score, without McClish.
    fpr, tpr, _ = roc_curve(y, s)
    if p >= 1:
        return auc(fpr, tpr)
    stop = np.searchsorted(fpr, p, "right")
    x_interp = [fpr[stop - 1], fpr[stop]]
    y_interp = [tpr[stop - 1], tpr[stop]]
    tpr = np.append(tpr[:stop], np.interp(p, x_interp, y_interp))
    fpr = np.append(fpr[:stop], p)
    return auc(fpr, tpr)


rng = np.random.default_rng(7)
cases = []


def add(name, y, s, thr):
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=np.float64)
    ps = [0.05, 0.1, 0.2, 0.5, 1.0]
    pred = (s > thr).astype(int)
    cases.append({
        "name": name,
        "labels": y.tolist(),
        "scores": s.tolist(),
        "auc": float(roc_auc_score(y, s)),
        "max_fpr": ps,
        "area": [float(raw_partial_area(y, s, p)) for p in ps],
        "mcclish": [float(roc_auc_score(y, s, max_fpr=p)) if p < 1 else float(roc_auc_score(y, s)) for p in ps],
        "threshold": thr,
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
    })


for i, (nn, na, sep) in enumerate([(50, 10, 1.0), (200, 40, 0.5), (30, 30, 2.0), (97, 3, 1.5)]):
    y = np.r_[np.zeros(nn), np.ones(na)]
    s = np.r_[rng.normal(0, 1, nn), rng.normal(sep, 1, na)]
    add(f"gauss_{nn}_{na}_sep{sep}", y, s, 1.0)
    # heavy ties: scores rounded to a coarse grid
    add(f"ties_{nn}_{na}_sep{sep}", y, np.round(s * 2) / 2, 0.5)
y = rng.integers(0, 2, 300)
y[:2] = [0, 1]
add("random_labels_int_scores", y, rng.integers(0, 6, 300).astype(float), 2.0)

out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "eval_golden.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
