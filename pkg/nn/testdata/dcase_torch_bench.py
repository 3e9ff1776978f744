#!/usr/bin/python3
"""PyTorch reference for BenchmarkDCASETrain/BenchmarkDCASEInfer (synthetic data).

The DCASE 2020 baseline autoencoder (as /work/shared/bench/dcase_ae.py), MSE, Adam 1e-3,
trained on random batches of 512 vectors; inference in eval mode under no_grad at batch
1, 64 and 4096. Prints vectors per second of wall-clock time and of process CPU time.

Run: /usr/bin/python3 dcase_torch_bench.py [--threads T] [--seconds S]

With --serve it reads commands from stdin, one per line, and answers each with one JSON
line, so that a harness (bench/nn) can interleave its own measurements with PyTorch's in
the same window of a shared machine:

    train SECONDS          -> {"what": "train", "batch": 512, "wall": v/s, "cpu": v/s}
    infer BATCH SECONDS    -> {"what": "infer", "batch": B, "wall": v/s, "cpu": v/s}
    quit

Threads: torch.set_num_threads(T) alone does not make PyTorch single-threaded here. Debian's
python3-torch does its matrix products in OpenBLAS (BLAS_INFO=generic, libblas.so.3 ->
openblas-pthread), whose own thread pool uses every core: with set_num_threads(1) only, a
training step burns two CPU-seconds per wall-second on this 2-core machine. So the script sets
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS to T before importing torch (pass
--blas-threads 0 to leave them alone and see the unpinned behaviour).
"""
import argparse
import json
import os
import sys
import time

torch = None  # imported in main, after the thread environment is set


def model():
    def blk(i, o):
        return [torch.nn.Linear(i, o), torch.nn.BatchNorm1d(o), torch.nn.ReLU()]
    layers = blk(640, 128) + blk(128, 128) + blk(128, 128) + blk(128, 128) + blk(128, 8)
    layers += blk(8, 128) + blk(128, 128) + blk(128, 128) + blk(128, 128) + [torch.nn.Linear(128, 640)]
    return torch.nn.Sequential(*layers)


def rate(fn, vectors, seconds):
    """Returns (wall, cpu) vectors per second of fn over at least `seconds` of wall time."""
    fn()
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return n * vectors / wall, n * vectors / max(cpu, 1e-9)


class Bench:
    def __init__(self):
        torch.manual_seed(0)
        self.net = model()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.x = torch.randn(512, 640)
        self.inputs = {}

    def step(self):
        self.opt.zero_grad()
        loss = torch.mean((self.net(self.x) - self.x) ** 2)
        loss.backward()
        self.opt.step()

    def train(self, seconds):
        self.net.train()
        return rate(self.step, 512, seconds)

    def infer(self, batch, seconds):
        self.net.eval()
        xb = self.inputs.setdefault(batch, torch.randn(batch, 640))
        with torch.no_grad():
            return rate(lambda: self.net(xb), batch, seconds)


def serve(b):
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        if f[0] == "quit":
            return
        if f[0] == "train":
            batch, (wall, cpu) = 512, b.train(float(f[1]))
        elif f[0] == "infer":
            batch = int(f[1])
            wall, cpu = b.infer(batch, float(f[2]))
        else:
            print(json.dumps({"error": "unknown command " + f[0]}), flush=True)
            continue
        print(json.dumps({"what": f[0], "batch": batch, "wall": wall, "cpu": cpu}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--serve", action="store_true", help="answer commands from stdin (see the docstring)")
    ap.add_argument("--blas-threads", type=int, default=-1,
                    help="threads of OpenBLAS/OpenMP/MKL (default: --threads; 0: leave the environment alone)")
    a = ap.parse_args()
    bt = a.threads if a.blas_threads < 0 else a.blas_threads
    if bt > 0:
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[v] = str(bt)
    global torch
    import torch as t
    torch = t
    torch.set_num_threads(a.threads)
    b = Bench()
    if a.serve:
        print(json.dumps({"ready": True, "threads": a.threads, "blas_threads": bt, "torch": torch.__version__}), flush=True)
        serve(b)
        return
    wall, cpu = b.train(a.seconds)
    print(f"threads={a.threads} train batch=512 vectors/s={wall:.0f} (per CPU-second {cpu:.0f})")
    for batch in (1, 64, 4096):
        wall, cpu = b.infer(batch, a.seconds)
        print(f"threads={a.threads} infer batch={batch} vectors/s={wall:.0f} (per CPU-second {cpu:.0f})")


if __name__ == "__main__":
    main()
