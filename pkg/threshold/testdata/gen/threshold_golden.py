#!/usr/bin/python3
"""Golden values for pkg/threshold, from numpy and scipy.

Run from pkg/threshold:  /usr/bin/python3 testdata/gen/threshold_golden.py
It rewrites testdata/threshold_golden.json. Generated with Debian's
python3-numpy 1.24.2 and python3-scipy 1.10.1.

For every data set: numpy.quantile (default method "linear"), mean, std with
ddof=1, scipy.stats.gamma.fit(x + offset, floc=0) and gamma.ppf(q, shape,
loc=0, scale) - offset, and scipy.special.digamma and polygamma(1, x) at
log-uniform points where offset = 0 if min(x) > 0 else
-min(x) + 1e-3 * (max(x) - min(x)) (pkg/threshold's documented shift).
"""
import json
import os

import numpy as np
import scipy
import scipy.special as sp
import scipy.stats as st

rng = np.random.default_rng(20240601)
sets = {
    "hand8": np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 10.0]),
    "gamma_k2.5_n200": rng.gamma(2.5, 0.3, 200),
    "lognormal_n50": rng.lognormal(-1.0, 0.6, 50),
    "gamma_k0.2_n300": rng.gamma(0.2, 2.0, 300),
    "gamma_k500_n100": rng.gamma(500.0, 0.01, 100),
    "normal_negative_n100": rng.normal(0.0, 1.0, 100),
    "two_values": np.array([1.0, 2.0]),
}
qs = [0.0, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0]
ppf_qs = [0.5, 0.9, 0.95, 0.99, 0.999]
out = {"numpy": np.__version__, "scipy": scipy.__version__, "cases": []}
for name, x in sets.items():
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(), x.max()
    offset = 0.0 if lo > 0 else -lo + 1e-3 * (hi - lo)
    y = x + offset
    shape, loc, scale = st.gamma.fit(y, floc=0)
    assert loc == 0
    out["cases"].append({
        "name": name,
        "data": x.tolist(),
        "quantile_q": qs,
        "quantile": [float(np.quantile(x, q)) for q in qs],
        "mean": float(x.mean()),
        "std_ddof1": float(x.std(ddof=1)),
        "gamma_offset": float(offset),
        "gamma_shape": float(shape),
        "gamma_scale": float(scale),
        "ppf_q": ppf_qs,
        "ppf": [float(st.gamma.ppf(q, shape, loc=0, scale=scale) - offset) for q in ppf_qs],
    })
# Special functions the gamma fit relies on, at log-uniform points.
xs = np.exp(rng.uniform(np.log(1e-3), np.log(1e6), 60))
xs = np.concatenate([xs, [0.5, 1.0, 9.999, 10.0, 10.001, 123.456]])
out["special"] = {
    "x": xs.tolist(),
    "digamma": sp.digamma(xs).tolist(),
    "trigamma": sp.polygamma(1, xs).tolist(),
}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "threshold_golden.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
