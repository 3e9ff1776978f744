#!/usr/bin/python3
"""Reference speed of the spectrogram front end: scipy.signal.stft + a numpy mel matrix.

Times, on one thread, the same two configurations as pkg/stft's BenchmarkThroughput:

  16k_n1024_h512_mel128_db  16 kHz, n_fft 1024, hop 512, periodic Hann, centred (numpy.pad
                            reflect), power, 128 Slaney mels (dense matrix product),
                            10*log10(x + 2^-23): the DCASE 2020 baseline's features
  25k6_n256_h128_power_db   25.6 kHz, n_fft 256, hop 128, periodic Hann, centred, power,
                            bins 1..128, 10*log10(x + 1e-10)

and reports seconds of signal per second, both per wall-clock second ("s/s") and per
second of process CPU time ("s/cpu-s", robust to other processes on a shared machine).
Input is float32, as the DCASE baseline feeds scipy (its fastest path: complex64 FFTs).

usage:
  /usr/bin/python3 bench/stft_ref.py            the reference only
  /usr/bin/python3 bench/stft_ref.py --go       also runs the Go benchmark in the same run
                                                (from the repository root) and prints ratios
Options: --seconds S (signal length, default 30), --reps N (default 5), --count N (go -count).
"""
import os

# One thread for BLAS and FFT: the figures are per core.
for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"

import argparse  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.signal  # noqa: E402


def slaney_mel(sr, n_fft, n_mels):
    """librosa.filters.mel(sr, n_fft, n_mels) (Slaney scale and norm), float32."""
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0),
                        f / (200.0 / 3))

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), (200.0 / 3) * m)

    fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    w = np.maximum(0, np.minimum(-ramps[:-2] / fdiff[:-1, None], ramps[2:] / fdiff[1:, None]))
    w *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return w.astype(np.float32)


def power_spec(x, n_fft, hop):
    xp = np.pad(x, n_fft // 2, mode="reflect")
    _, _, Z = scipy.signal.stft(xp, nperseg=n_fft, noverlap=n_fft - hop, window="hann",
                                boundary=None, padded=False, scaling="spectrum")
    return np.abs(Z * (n_fft / 2.0)) ** 2


def dcase(x, mel):
    return 10.0 * np.log10(mel @ power_spec(x, 1024, 512) + np.float32(np.finfo(np.float32).eps))


def vib(x, _):
    return 10.0 * np.log10(power_spec(x, 256, 128)[1:129] + np.float32(1e-10))


CASES = [
    ("16k_n1024_h512_mel128_db", 16000, dcase, lambda: slaney_mel(16000, 1024, 128)),
    ("25k6_n256_h128_power_db", 25600, vib, lambda: None),
]


def reference(seconds, reps):
    rng = np.random.default_rng(1)
    out = {}
    for name, sr, fn, mk in CASES:
        x = (0.1 * rng.standard_normal(int(seconds * sr))).astype(np.float32)
        aux = mk()
        fn(x[:sr], aux)  # warm up
        walls, cpus = [], []
        for _ in range(reps):
            w0, c0 = time.perf_counter(), time.process_time()
            y = fn(x, aux)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        assert np.isfinite(y).all()
        out[name] = (seconds / statistics.median(walls), seconds / statistics.median(cpus))
    return out


def go_bench(count, benchtime):
    cmd = ["go", "test", "-run", "^$", "-bench", "Throughput", "-benchtime", benchtime,
           "-count", str(count), "./pkg/stft/"]
    print("$", " ".join(cmd), flush=True)
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    per = {}
    for line in res.stdout.splitlines():
        m = re.match(r"BenchmarkThroughput/(\S+?)-\d+\s", line)
        if not m:
            continue
        print(line)
        s = float(re.search(r"([\d.]+) s/s", line).group(1))
        c = float(re.search(r"([\d.]+) s/cpu-s", line).group(1))
        a = int(re.search(r"(\d+) allocs/op", line).group(1))
        per.setdefault(m.group(1), []).append((s, c, a))
    return {k: (statistics.median(v[0] for v in vs), statistics.median(v[1] for v in vs), max(v[2] for v in vs))
            for k, vs in per.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go", action="store_true", help="also run the Go benchmark and print ratios")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--benchtime", default="2s")
    a = ap.parse_args()
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, one thread, {a.seconds:g} s signals, "
          f"median of {a.reps}")
    ref = reference(a.seconds, a.reps)
    gof = go_bench(a.count, a.benchtime) if a.go else {}
    ref2 = reference(a.seconds, a.reps) if a.go else ref  # after Go too: same conditions
    print(f"\n{'config':28s} {'scipy s/s':>10s} {'cpu-s':>8s}", end="")
    if a.go:
        print(f" {'Go s/s':>8s} {'cpu-s':>8s} {'allocs':>6s} {'ratio':>6s} {'cpu ratio':>9s}", end="")
    print()
    for name, _, _, _ in CASES:
        rs = max(ref[name][0], ref2[name][0])
        rc = max(ref[name][1], ref2[name][1])
        print(f"{name:28s} {rs:10.0f} {rc:8.0f}", end="")
        if name in gof:
            gs, gc, al = gof[name]
            print(f" {gs:8.0f} {gc:8.0f} {al:6d} {gs / rs:6.2f} {gc / rc:9.2f}", end="")
        print()
    if a.go:
        print("(ratio: Go over the better of two scipy runs, one before and one after the Go benchmark)")


if __name__ == "__main__":
    sys.exit(main())
