#!/usr/bin/python3
"""Golden values for pkg/indicator, from numpy and scipy.

Run from pkg/indicator:  /usr/bin/python3 testdata/gen/indicator_golden.py
It rewrites testdata/indicator_golden.json (numpy 1.24.2, scipy 1.10.1).
Samples are float32 (as the package takes them); statistics are computed on
their float64 values: RMS sqrt(mean(x**2)), peak max|x|, crest peak/RMS,
scipy.stats.kurtosis(x, fisher=False, bias=True),
scipy.stats.skew(x, bias=True), numpy mean and std (ddof=0).
"""
import json
import os

import numpy as np
import scipy
import scipy.stats as st

rng = np.random.default_rng(3)
t = np.arange(512) / 25600.0
sets = {
    "gauss": rng.normal(0.0, 0.3, 512),
    # bearing-like: noise plus periodic decaying impulses (high kurtosis)
    "impulses": rng.normal(0.0, 0.05, 512)
    + sum(2.0 * np.exp(-(t - t0) * 3000.0) * np.sin(2 * np.pi * 4000 * (t - t0)) * (t >= t0)
          for t0 in (0.002, 0.008, 0.014)),
    "offset": 3.0 + rng.uniform(-0.5, 0.5, 512),
}
out = {"numpy": np.__version__, "scipy": scipy.__version__, "cases": []}
for name, x in sets.items():
    x = x.astype(np.float32).astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x)))
    peak = float(np.max(np.abs(x)))
    out["cases"].append({
        "name": name,
        "x": x.tolist(),
        "mean": float(x.mean()),
        "std": float(x.std()),
        "rms": rms,
        "peak": peak,
        "crest": peak / rms,
        "kurtosis": float(st.kurtosis(x, fisher=False, bias=True)),
        "skewness": float(st.skew(x, bias=True)),
    })
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "indicator_golden.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
