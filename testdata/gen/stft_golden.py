#!/usr/bin/python3
"""Golden outputs for pkg/stft, pkg/patch and pkg/feature, computed with numpy and scipy.

usage: /usr/bin/python3 testdata/gen/stft_golden.py [OUTDIR]   (default testdata/stft)
   or: go test ./pkg/stft -run Golden -update

Needs only Debian's python3-numpy and python3-scipy (librosa is not used; its mel filterbank
and centring are re-implemented below from librosa 0.10's published source).

Writes into OUTDIR:
  golden.json          manifest: signals, cases (each with the Go stft.Config as JSON), shapes
  <signal>.f32         input signals, little-endian float32
  <case>.f32           expected output, float32, frame-major (frames x bins)
  dcase_features.f32   the DCASE 2020 baseline's 640-value vectors for sig16k, computed by
                       `features` copied verbatim from ../shared/bench/dcase_ae.py
The outputs are deterministic: a seeded numpy Generator makes the signals.
"""
import json
import os
import sys

import numpy as np
import scipy.signal

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "stft")


# ---------------------------------------------------------------------------------------------
# Signals
def signals():
    rng = np.random.default_rng(20200601)
    sr = 16000
    t = np.arange(sr) / sr
    x16 = (0.5 * np.sin(2 * np.pi * 440.0 * t)
           + 0.25 * np.sin(2 * np.pi * 1234.5 * t + 0.3)
           + 0.1 * scipy.signal.chirp(t, 200.0, 1.0, 7000.0)
           + 0.05 * rng.standard_normal(sr))
    srv = 25600
    tv = np.arange(srv // 4) / srv
    xv = (0.8 * np.sin(2 * np.pi * 29.5 * tv)          # shaft
          + 0.3 * np.sin(2 * np.pi * 3 * 29.5 * tv)
          + 0.2 * np.sin(2 * np.pi * 4100.0 * tv) * (1 + 0.5 * np.sin(2 * np.pi * 107.0 * tv))
          + 0.02 * rng.standard_normal(len(tv)))
    short = 0.3 * rng.standard_normal(300)
    return {
        "sig16k": (sr, x16.astype(np.float32)),
        "sigvib": (srv, xv.astype(np.float32)),
        "short16k": (sr, short.astype(np.float32)),
    }


# ---------------------------------------------------------------------------------------------
# librosa's mel filterbank (librosa.filters.mel, librosa 0.10), ported to numpy
def hz_to_mel(f, htk):
    f = np.asanyarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep, mels)


def mel_to_hz(m, htk):
    m = np.asanyarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_bank(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    if not fmax:
        fmax = sr / 2.0
    fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    w = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        w[i] = np.maximum(0, np.minimum(lower, upper))
    if norm == "slaney":
        w *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return w


# ---------------------------------------------------------------------------------------------
# The reference transform: numpy.pad (librosa's centring) + scipy.signal.stft, in float64.
SCIPY_WINDOW = {"hann": "hann", "hamming": "hamming", "blackman": "blackman", "rectangular": "boxcar"}


def reference(x, sr, c):
    n, hop = c["n_fft"], c["hop"]
    x = x.astype(np.float64)
    if c["center"]:
        x = np.pad(x, n // 2, mode="reflect")
    w = scipy.signal.get_window(SCIPY_WINDOW[c["window"]], n, fftbins=not c["symmetric"])
    nbins = n // 2 + 1
    if len(x) < n:
        S = np.zeros((nbins, 0))
    else:
        _, _, Z = scipy.signal.stft(x, nperseg=n, noverlap=n - hop, window=w, boundary=None,
                                    padded=False, scaling="spectrum", detrend=False,
                                    return_onesided=True)
        Z = Z * w.sum()  # undo scaling="spectrum"
        S = np.abs(Z)
        if c["spectrum"] == "power":
            S = S ** 2
    if c["mels"] > 0:
        M = mel_bank(sr, n, c["mels"], c["fmin"], c["fmax"], c["mel_scale"] == "htk", c["mel_norm"])
        Y = M @ S
    else:
        f = np.fft.rfftfreq(n, 1.0 / sr)
        fmax = c["fmax"] or sr / 2.0
        Y = S[(f >= c["fmin"]) & (f <= fmax)]
    if c["log"] != "none":
        Y = np.log(np.maximum(Y, c["floor"]) + c["eps"])
        if c["log"] == "db":
            Y = Y * (10.0 / np.log(10.0))
    return np.ascontiguousarray(Y.T, dtype=np.float32)


def cfg(n_fft, hop, window="hann", symmetric=False, center=True, spectrum="power", mels=0,
        mel_scale="slaney", mel_norm="slaney", fmin=0.0, fmax=0.0, log="none", eps=0.0, floor=0.0):
    c = dict(n_fft=n_fft, hop=hop, window=window, symmetric=symmetric, center=center,
             spectrum=spectrum, mels=mels, fmin=fmin, fmax=fmax, log=log, eps=eps, floor=floor)
    if mels > 0:
        c["mel_scale"], c["mel_norm"] = mel_scale, mel_norm
    return c


EPS32 = float(np.finfo(np.float32).eps)

CASES = [
    ("mel128_slaney_db", "sig16k", cfg(1024, 512, mels=128, log="db", eps=EPS32)),
    ("mel40_htk_nonorm_ln_fminmax", "sig16k",
     cfg(512, 160, mels=40, mel_scale="htk", mel_norm="none", fmin=100.0, fmax=7000.0, log="ln", eps=1e-6)),
    ("mel64_hamming_mag_nocenter_db_floor", "sig16k",
     cfg(400, 160, window="hamming", center=False, spectrum="magnitude", mels=64, fmin=50.0,
         log="db", floor=1e-5)),
    ("mel32_htk_slaney_blackman_sym", "sig16k",
     cfg(1024, 256, window="blackman", symmetric=True, mels=32, mel_scale="htk", fmax=6000.0, log="db", eps=1e-10)),
    ("lin_power_db_fmin", "sigvib", cfg(256, 128, fmin=100.0, log="db", eps=1e-10)),
    ("lin_blackman_mag_nocenter", "sigvib", cfg(256, 64, window="blackman", center=False, spectrum="magnitude")),
    ("lin_hannsym_power_ln_band", "sigvib",
     cfg(256, 100, symmetric=True, fmin=1000.0, fmax=8000.0, log="ln", eps=1e-12)),
    ("lin_rect_power", "sigvib", cfg(128, 128, window="rectangular")),
    ("lin_odd_nfft_hamming", "sigvib", cfg(255, 100, window="hamming", log="db", eps=1e-10)),
    ("short_centred_mel", "short16k", cfg(1024, 128, mels=32, log="db", eps=1e-10)),
]


# ---------------------------------------------------------------------------------------------
# Verbatim from ../shared/bench/dcase_ae.py (the DCASE 2020 Task 2 baseline's feature extraction).
SR, N_FFT, HOP, N_MELS, FRAMES = 16000, 1024, 512, 128, 5


def dcase_hz_to_mel(f):  # Slaney, as librosa's default
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    lin = f >= 1000.0
    mel = np.where(lin, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)
    return mel


def dcase_mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f = (200.0 / 3) * m
    lin = m >= 15.0
    return np.where(lin, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), f)


def mel_filterbank(sr, n_fft, n_mels):
    fftfreqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mels = dcase_mel_to_hz(np.linspace(dcase_hz_to_mel(0), dcase_hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mels)
    ramps = mels[:, None] - fftfreqs[None, :]
    w = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        w[i] = np.maximum(0, np.minimum(lower, upper))
    w *= (2.0 / (mels[2:n_mels + 2] - mels[:n_mels]))[:, None]
    return w.astype(np.float32)


MEL = None


def features(x, sr):
    global MEL
    if MEL is None:
        MEL = mel_filterbank(sr, N_FFT, N_MELS)
    # librosa-style centred STFT with reflect padding and a periodic Hann window
    xp = np.pad(x, N_FFT // 2, mode="reflect")
    _, _, Z = scipy.signal.stft(xp, nperseg=N_FFT, noverlap=N_FFT - HOP, window="hann",
                                boundary=None, padded=False, scaling="spectrum")
    S = (np.abs(Z * (N_FFT / 2.0)) ** 2).astype(np.float32)  # undo scipy's scaling
    logmel = 10.0 * np.log10(MEL @ S + np.finfo(np.float32).eps)  # (n_mels, T)
    T = logmel.shape[1] - FRAMES + 1
    if T < 1:
        return np.empty((0, N_MELS * FRAMES), np.float32)
    v = np.concatenate([logmel[:, t:t + T] for t in range(FRAMES)], axis=0).T
    return np.ascontiguousarray(v, dtype=np.float32)
# ---------------------------------------------------------------------------------------------


def write_f32(name, a):
    np.ascontiguousarray(a, dtype="<f4").tofile(os.path.join(OUT, name))


def main():
    os.makedirs(OUT, exist_ok=True)
    sig = signals()
    manifest = {"generator": "testdata/gen/stft_golden.py", "numpy": np.__version__,
                "scipy": scipy.__version__, "signals": {}, "cases": []}
    for name, (sr, x) in sig.items():
        write_f32(name + ".f32", x)
        manifest["signals"][name] = {"file": name + ".f32", "rate": sr, "samples": len(x)}
    for name, sname, c in CASES:
        sr, x = sig[sname]
        y = reference(x, sr, c)
        write_f32(name + ".f32", y)
        manifest["cases"].append({"name": name, "signal": sname, "rate": sr, "config": c,
                                  "frames": y.shape[0], "bins": y.shape[1], "file": name + ".f32"})
    sr, x = sig["sig16k"]
    v = features(x, sr)
    write_f32("dcase_features.f32", v)
    manifest["dcase"] = {"signal": "sig16k", "rate": sr, "file": "dcase_features.f32",
                         "vectors": v.shape[0], "dim": v.shape[1], "frames": FRAMES, "mels": N_MELS}
    with open(os.path.join(OUT, "golden.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
