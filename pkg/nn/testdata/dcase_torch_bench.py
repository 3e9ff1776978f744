#!/usr/bin/python3
"""PyTorch reference for BenchmarkDCASETrain/BenchmarkDCASEInfer (synthetic data).

The DCASE 2020 baseline autoencoder (as /work/shared/bench/dcase_ae.py), MSE, Adam 1e-3,
trained on random batches of 512 vectors; inference in eval mode under no_grad at batch
1, 64 and 4096. Prints vectors per second. Run: /usr/bin/python3 dcase_torch_bench.py [--threads T] [--seconds S]
"""
import argparse
import time

import torch


def model():
    def blk(i, o):
        return [torch.nn.Linear(i, o), torch.nn.BatchNorm1d(o), torch.nn.ReLU()]
    layers = blk(640, 128) + blk(128, 128) + blk(128, 128) + blk(128, 128) + blk(128, 8)
    layers += blk(8, 128) + blk(128, 128) + blk(128, 128) + blk(128, 128) + [torch.nn.Linear(128, 640)]
    return torch.nn.Sequential(*layers)


def rate(fn, vectors, seconds):
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n * vectors / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(512, 640)

    def step():
        opt.zero_grad()
        loss = torch.mean((net(x) - x) ** 2)
        loss.backward()
        opt.step()

    net.train()
    print(f"threads={a.threads} train batch=512 vectors/s={rate(step, 512, a.seconds):.0f}")
    net.eval()
    for b in (1, 64, 4096):
        xb = torch.randn(b, 640)
        with torch.no_grad():
            r = rate(lambda: net(xb), b, a.seconds)
        print(f"threads={a.threads} infer batch={b} vectors/s={r:.0f}")


if __name__ == "__main__":
    main()
