#!/usr/bin/python3
"""Reference values from PyTorch for pkg/nn's tests.

Run with Debian's python3-torch (1.13): /usr/bin/python3 torch_ref.py > torch_ref.json
Inputs are drawn with numpy (seed 1) and stored in the JSON next to PyTorch's outputs,
so the Go tests read both. Everything is float32 except the loss values (float64).
"""
import json

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
rng = np.random.default_rng(1)


def r(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def L(a):
    return np.asarray(a, dtype=np.float64).ravel().tolist()


out = {}

# Convolutions: forward values, PyTorch layout (weight OutC x InC x KH x KW; transposed InC x OutC x KH x KW).
x, w, b = r(2, 3, 7, 6), r(4, 3, 3, 2), r(4)
y = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=(2, 1), padding=(1, 0))
out["conv2d"] = dict(x=L(x), w=L(w), b=L(b), y=L(y), yshape=list(y.shape))

x, w, b = r(2, 3, 4, 5), r(3, 2, 3, 3), r(2)
y = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1, output_padding=1)
out["convt2d"] = dict(x=L(x), w=L(w), b=L(b), y=L(y), yshape=list(y.shape))

x, w, b = r(2, 3, 9), r(4, 3, 3), r(4)
y = F.conv1d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
out["conv1d"] = dict(x=L(x), w=L(w), b=L(b), y=L(y), yshape=list(y.shape))

x, w, b = r(2, 3, 5), r(3, 2, 4), r(2)
y = F.conv_transpose1d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
out["convt1d"] = dict(x=L(x), w=L(w), b=L(b), y=L(y), yshape=list(y.shape))

# BatchNorm: one training step (output, running stats), then inference output.
for name, shape in (("bn1d", (6, 4)), ("bn2d", (3, 2, 4, 5))):
    x = r(*shape) * 2 + 0.5
    c = shape[1]
    bn = torch.nn.BatchNorm1d(c) if len(shape) == 2 else torch.nn.BatchNorm2d(c)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(r(c)))
        bn.bias.copy_(torch.tensor(r(c)))
    bn.train()
    yt = bn(torch.tensor(x))
    bn.eval()
    ye = bn(torch.tensor(x))
    out[name] = dict(x=L(x), shape=list(shape), gamma=L(bn.weight.detach()), beta=L(bn.bias.detach()),
                     ytrain=L(yt.detach()), yeval=L(ye.detach()),
                     rmean=L(bn.running_mean), rvar=L(bn.running_var))

# Optimisers: three steps with given gradients.
p0 = r(7)
grads = [r(7) for _ in range(3)]


def run(make):
    p = torch.nn.Parameter(torch.tensor(p0))
    opt = make([p])
    traj = []
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        traj.append(L(p.detach()))
    return traj


out["optim"] = dict(
    p0=L(p0), grads=[L(g) for g in grads],
    adam=run(lambda ps: torch.optim.Adam(ps, lr=1e-2)),
    adam_l2=run(lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.1)),
    adamw=run(lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.1)),
    sgd=run(lambda ps: torch.optim.SGD(ps, lr=0.1)),
    sgd_mom=run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01)),
    sgd_nesterov=run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
)

# Gradient clipping.
gs = [r(5) * 3, r(4) * 3]
ts = [torch.nn.Parameter(torch.zeros(len(g))) for g in gs]
for t, g in zip(ts, gs):
    t.grad = torch.tensor(g)
norm = torch.nn.utils.clip_grad_norm_(ts, 2.0)
out["clip"] = dict(grads=[L(g) for g in gs], max=2.0, norm=float(norm), clipped=[L(t.grad) for t in ts])

# Gaussian NLL, full constant, mean reduction; per-feature log-variance broadcast over rows.
mu, tgt, lv = r(4, 3), r(4, 3), r(3) * 0.5
mu_t = torch.tensor(mu, requires_grad=True)
lv_t = torch.tensor(lv, requires_grad=True)
var = torch.exp(lv_t).expand(4, 3)
loss = F.gaussian_nll_loss(mu_t, torch.tensor(tgt), var, full=True, eps=0.0, reduction="mean")
loss.backward()
out["gnll"] = dict(mu=L(mu), target=L(tgt), logvar=L(lv), loss=float(loss), gmu=L(mu_t.grad), glogvar=L(lv_t.grad))

# A small network trained three Adam steps on one batch: Linear-Tanh-BN-ReLU-Linear, MSE.
# (Tanh between Linear and BN: a bias right before BN has a zero gradient in exact arithmetic,
# and Adam turns the rounding noise into full steps, different in every implementation.)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                          torch.nn.Linear(5, 3))
init = {k: L(v.detach()) for k, v in net.state_dict().items() if "num_batches" not in k}
x, t = r(8, 6), r(8, 3)
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
losses = []
for _ in range(3):
    opt.zero_grad()
    l = F.mse_loss(net(torch.tensor(x)), torch.tensor(t))
    l.backward()
    opt.step()
    losses.append(float(l))
net.eval()
yeval = net(torch.tensor(x))
out["net"] = dict(init=init, x=L(x), t=L(t), losses=losses,
                  final={k: L(v.detach()) for k, v in net.state_dict().items() if "num_batches" not in k},
                  yeval=L(yeval.detach()))

print(json.dumps(out))
