#!/usr/bin/python3
"""Generate the small test files of pkg/signal into testdata/signal/.

Run from the repository root:   /usr/bin/python3 testdata/gen/signal_gen.py

Every *.good.* file gets a sidecar <file>.json with what a correct reader returns:
{"rate": Hz, "names": [...], "start_ns": int, "channels": [[...], ...]}. The values are
float32-exact (they are computed in float32 or are float32 values written as float64), so
the Go test compares them within one float32 ulp.

Where an independent writer exists the file is written with it (scipy.io.wavfile,
Python's wave module, scipy.io.savemat); files that need layouts those writers cannot make
(WAVE_FORMAT_EXTENSIBLE, extra chunks, big-endian MAT, a double class stored as uint16) are
packed here by hand and then read back with scipy to check that scipy agrees with the
sidecar. The *.bad.* files are broken on purpose; pkg/signal's tests hold the table of the
error each one must give.

Deterministic: numpy's PCG64 with seed 1; rerunning rewrites identical files.
"""
import io
import json
import os
import struct
import warnings
import wave
import zlib

import numpy as np
import scipy.io
import scipy.io.wavfile
import scipy.sparse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "signal")
rng = np.random.Generator(np.random.PCG64(1))


def path(name):
    return os.path.join(OUT, name)


def sidecar(name, rate, channels, names=None, start_ns=0):
    chans = [[float(np.float32(v)) for v in np.asarray(c).ravel()] for c in channels]
    with open(path(name) + ".json", "w") as f:
        json.dump({"rate": rate, "names": names or [], "start_ns": start_ns, "channels": chans}, f)
        f.write("\n")


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------- WAV

def int_samples(frames, nch, bits):
    """Random integers over the full range, with both extremes and zero present."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    x = rng.integers(lo, hi, size=(frames, nch), endpoint=True, dtype=np.int64)
    x[0, 0], x[1, 0], x[2, 0] = lo, hi, 0
    return x


def scaled(x, bits):
    # The documented convention of pkg/signal: integer / 2^(bits-1), in float32.
    return (x.astype(np.float64) / float(1 << (bits - 1))).astype(np.float32)


def chunk(cid, payload):
    pad = b"\0" if len(payload) % 2 else b""
    return cid + struct.pack("<I", len(payload)) + payload + pad


def riff(*chunks):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_plain(tag, nch, rate, bits):
    block = nch * bits // 8
    return chunk(b"fmt ", struct.pack("<HHIIHH", tag, nch, rate, rate * block, block, bits))


GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def fmt_ext(sub, nch, rate, bits, valid=None, tail=GUID_TAIL):
    block = nch * bits // 8
    mask = (1 << nch) - 1
    guid = struct.pack("<H", sub) + tail
    return chunk(b"fmt ", struct.pack("<HHIIHHHHI", 0xFFFE, nch, rate, rate * block, block, bits,
                                      22, valid or bits, mask) + guid)


def pack_int(x, bits):
    x = np.asarray(x, dtype=np.int64).ravel()  # frames x channels, interleaved
    if bits == 24:
        u = (x & 0xFFFFFF).astype(np.uint32)
        b = np.stack([(u & 0xFF), (u >> 8) & 0xFF, (u >> 16) & 0xFF], axis=1).astype(np.uint8)
        return b.tobytes()
    return x.astype({16: "<i2", 32: "<i4"}[bits]).tobytes()


def check_scipy_wav(name, rate, want):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)  # LIST, junk chunks
        sr, got = scipy.io.wavfile.read(path(name))
    assert sr == rate, (name, sr)
    got = np.asarray(got).reshape(len(got), -1)
    assert np.array_equal(got, want), name


def make_wav():
    # 16-bit mono via scipy's writer (WAVE_FORMAT_PCM).
    x = int_samples(64, 1, 16)
    scipy.io.wavfile.write(path("pcm16_mono.good.wav"), 16000, x[:, 0].astype(np.int16))
    sidecar("pcm16_mono.good.wav", 16000, [scaled(x[:, 0], 16)])

    # 24-bit stereo via Python's wave module (it writes format 1 with sampwidth 3).
    x = int_samples(50, 2, 24)
    with wave.open(path("pcm24_stereo.good.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(3)
        w.setframerate(44100)
        w.writeframes(pack_int(x, 24))
    sidecar("pcm24_stereo.good.wav", 44100, [scaled(x[:, c], 24) for c in range(2)])
    check_scipy_wav("pcm24_stereo.good.wav", 44100, x.astype(np.int32) << 8)  # scipy left-justifies 24-bit

    # 32-bit integer mono via scipy.
    x = int_samples(40, 1, 32)
    scipy.io.wavfile.write(path("pcm32_mono.good.wav"), 48000, x[:, 0].astype(np.int32))
    sidecar("pcm32_mono.good.wav", 48000, [scaled(x[:, 0], 32)])

    # 8-bit unsigned mono via scipy: (u - 128) / 128.
    u = rng.integers(0, 255, size=30, endpoint=True).astype(np.uint8)
    u[0], u[1], u[2] = 0, 255, 128
    scipy.io.wavfile.write(path("pcm8_mono.good.wav"), 8000, u)
    sidecar("pcm8_mono.good.wav", 8000, [((u.astype(np.float64) - 128) / 128).astype(np.float32)])

    # IEEE float, 32-bit stereo and 64-bit mono, via scipy (format 3).
    f = rng.uniform(-1.5, 1.5, size=(33, 2)).astype(np.float32)
    scipy.io.wavfile.write(path("float32_stereo.good.wav"), 25600, f)
    sidecar("float32_stereo.good.wav", 25600, [f[:, 0], f[:, 1]])
    d = rng.standard_normal(21)
    d[0] = 1e-300  # underflows to 0 in float32
    scipy.io.wavfile.write(path("float64_mono.good.wav"), 12000, d)
    sidecar("float64_mono.good.wav", 12000, [d.astype(np.float32)])

    # WAVE_FORMAT_EXTENSIBLE, PCM 24-bit in 4 channels (20 valid bits), with a LIST chunk and an
    # odd-sized chunk (pad byte) between fmt and data.
    x = int_samples(25, 4, 24) & ~0xF  # 20 valid bits, left-justified
    data = pack_int(x, 24)
    info = chunk(b"LIST", b"INFO" + chunk(b"ISFT", b"signal_gen.py\0"))
    odd = chunk(b"junk", b"abc")
    write("ext_pcm24_4ch.good.wav", riff(fmt_ext(1, 4, 96000, 24, valid=20), info, odd,
                                         chunk(b"data", data)))
    sidecar("ext_pcm24_4ch.good.wav", 96000, [scaled(x[:, c], 24) for c in range(4)])
    check_scipy_wav("ext_pcm24_4ch.good.wav", 96000, x.astype(np.int32) << 8)

    # WAVE_FORMAT_EXTENSIBLE, IEEE float 32-bit stereo, with a fact chunk.
    f = rng.uniform(-1, 1, size=(17, 2)).astype(np.float32)
    write("ext_float32_stereo.good.wav", riff(fmt_ext(3, 2, 22050, 32), chunk(b"fact", struct.pack("<I", 17)),
                                              chunk(b"data", f.astype("<f4").tobytes())))
    sidecar("ext_float32_stereo.good.wav", 22050, [f[:, 0], f[:, 1]])
    check_scipy_wav("ext_float32_stereo.good.wav", 22050, f)

    # ---- bad WAV files
    write("empty.bad.wav", b"")
    write("text.bad.wav", b"time,value\n0,1\n1,2\n3,4\n5,6\n7,8\n9,10\n")
    # Header says 320000 bytes of 16-bit mono (a 10 s DCASE clip), the file has 1200.
    pcm = pack_int(int_samples(600, 1, 16), 16)
    full = b"RIFF" + struct.pack("<I", 36 + 320000) + b"WAVE" + fmt_plain(1, 1, 16000, 16) \
        + b"data" + struct.pack("<I", 320000) + pcm
    write("truncated_data.bad.wav", full)
    write("truncated_header.bad.wav", riff(fmt_plain(1, 1, 16000, 16), chunk(b"data", pcm))[:30])
    write("nodata.bad.wav", riff(fmt_plain(1, 1, 16000, 16), chunk(b"LIST", b"INFO")))
    write("nofmt.bad.wav", riff(chunk(b"data", pcm)))
    write("adpcm.bad.wav", riff(fmt_plain(2, 1, 16000, 4), chunk(b"data", pcm[:64])))
    write("pcm12.bad.wav", riff(fmt_plain(1, 1, 16000, 12), chunk(b"data", pcm[:64])))
    write("float16.bad.wav", riff(fmt_plain(3, 1, 16000, 16), chunk(b"data", pcm[:64])))
    write("zerodata.bad.wav", riff(fmt_plain(1, 1, 16000, 16), chunk(b"data", b"")))
    # a data chunk of 6 bytes for 16-bit stereo (4-byte frames): 1.5 frames
    write("misaligned.bad.wav", riff(fmt_plain(1, 2, 16000, 16), chunk(b"data", pcm[:6])))
    write("zerochannels.bad.wav", riff(fmt_plain(1, 0, 16000, 16), chunk(b"data", pcm[:64])))
    write("zerorate.bad.wav", riff(fmt_plain(1, 1, 0, 16), chunk(b"data", pcm[:64])))
    write("extguid.bad.wav", riff(fmt_ext(1, 1, 16000, 16, tail=b"\x01" * 14), chunk(b"data", pcm[:64])))
    write("rf64.bad.wav", b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + chunk(b"ds64", b"\0" * 28))


# ---------------------------------------------------------------------------- MAT

def mat_header(text, version=0x0100, endian="<"):
    t = text.encode().ljust(116, b" ")
    return t + b"\0" * 8 + struct.pack(endian + "H", version) + (b"IM" if endian == "<" else b"MI")


MI = {"int8": 1, "uint8": 2, "int16": 3, "uint16": 4, "int32": 5, "uint32": 6, "single": 7,
      "double": 9, "int64": 12, "uint64": 13}
NP = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
      "single": "f4", "double": "f8", "int64": "i8", "uint64": "u8"}
CLASS = {"double": 6, "single": 7, "int8": 8, "uint8": 9, "int16": 10, "uint16": 11, "int32": 12,
         "uint32": 13, "int64": 14, "uint64": 15}


def element(e, typ, payload, small_ok=True):
    """A data element: small format when the payload fits in 4 bytes, else a tag + padded data."""
    if small_ok and len(payload) <= 4:
        # The tag is one 32-bit word: byte count in the high half, type in the low half.
        return struct.pack(e + "I", len(payload) << 16 | typ) + payload.ljust(4, b"\0")
    pad = (-len(payload)) % 8
    return struct.pack(e + "II", typ, len(payload)) + payload + b"\0" * pad


def mat_matrix(e, name, cls, dims, values, store):
    """An miMATRIX element of class cls whose data are stored as type store (may differ)."""
    flags = element(e, 6, struct.pack(e + "II", CLASS[cls], 0), small_ok=False)
    dimel = element(e, 5, struct.pack(e + "i" * len(dims), *dims), small_ok=False)
    nameel = element(e, 1, name.encode())
    data = np.asarray(values).ravel(order="F").astype(e + NP[store]).tobytes()
    body = flags + dimel + nameel + element(e, MI[store], data)
    return struct.pack(e + "II", 14, len(body)) + body


def savemat(name, mdict, **kw):
    """scipy.io.savemat with its "Created on: <date>" header text replaced, so reruns are identical."""
    scipy.io.savemat(path(name), mdict, **kw)
    with open(path(name), "r+b") as f:
        f.write(b"MATLAB 5.0 MAT-file Platform: posix, Created by: scipy.io.savemat (signal_gen.py)".ljust(116, b" "))


def make_mat():
    n = 120
    de = rng.standard_normal((n, 1)) * 0.1
    fe = rng.standard_normal((n, 1)) * 0.05
    cwru = {"X097_DE_time": de, "X097_FE_time": fe, "X097RPM": np.array([[1796]], dtype=np.uint16)}
    for name, comp in (("48k_cwru_like.good.mat", False), ("48k_cwru_like_z.good.mat", True)):
        savemat(name, cwru, do_compression=comp, oned_as="column")
        sidecar(name, 48000, [de, fe], names=["X097_DE_time", "X097_FE_time"])

    # One file with every numeric class, a matrix, a 1-character name (small-element name), a row
    # vector, a logical and a char, cell and struct that a reader must skip.
    v = {
        "sig_single": rng.standard_normal((40, 1)).astype(np.float32),
        "sig_i16": rng.integers(-32768, 32767, size=(1, 40), endpoint=True).astype(np.int16),
        "sig_i32": rng.integers(-2**31, 2**31 - 1, size=(40, 1), endpoint=True).astype(np.int32),
        "sig_u8": rng.integers(0, 255, size=(40, 1), endpoint=True).astype(np.uint8),
        "sig_i64": rng.integers(-2**40, 2**40, size=(40, 1)).astype(np.int64),
        "m": rng.standard_normal((30, 3)),
        "flag": np.array([[True, False, True]]),
        "label": "bearing",
        "c": np.array([[1.0, 2.0], "x"], dtype=object),
        "s": {"a": 1.0, "b": np.arange(3.0)},
    }
    savemat("types.good.mat", v, do_compression=False)
    savemat("types_z.good.mat", v, do_compression=True)
    expect = {k: v[k] for k in ("sig_single", "sig_i16", "sig_i32", "sig_u8", "sig_i64", "m")}
    with open(path("types.good.mat.json"), "w") as f:
        json.dump({k: {"shape": list(a.shape), "class": str(a.dtype).replace("float32", "single")
                       .replace("float64", "double"),
                       "data": [float(x) for x in a.ravel(order="F")]} for k, a in expect.items()}, f)
        f.write("\n")

    # Big-endian, hand-packed like the 2000-era CWRU files: names read from the file (X173 in a
    # file called _174), a double-class RPM stored as uint16 in a small data element, and the
    # time series as N x 1 doubles.
    e = ">"
    de = rng.standard_normal((50, 1)) * 0.2
    fe = rng.standard_normal((50, 1)) * 0.3
    body = (mat_matrix(e, "X173_DE_time", "double", (50, 1), de, "double")
            + mat_matrix(e, "X173_FE_time", "double", (50, 1), fe, "double")
            + mat_matrix(e, "X173RPM", "double", (1, 1), [1797], "uint16"))
    write("IR014_0_174_be.good.mat", mat_header("MATLAB 5.0 MAT-file, Platform: SOL2, big-endian test", endian=e) + body)
    d = scipy.io.loadmat(path("IR014_0_174_be.good.mat"))
    assert np.array_equal(d["X173_DE_time"], de) and d["X173RPM"][0, 0] == 1797
    sidecar("IR014_0_174_be.good.mat", 12000, [de, fe], names=["X173_DE_time", "X173_FE_time"])

    # Little-endian single stored as int16 data in a compressed element (class != storage type).
    e = "<"
    vals = rng.integers(-300, 300, size=(12, 1))
    inner = mat_matrix(e, "acc", "single", (12, 1), vals, "int16")
    z = zlib.compress(inner)
    write("packed_z.good.mat", mat_header("MATLAB 5.0 MAT-file, hand packed") + struct.pack("<II", 15, len(z)) + z)
    d = scipy.io.loadmat(path("packed_z.good.mat"), mat_dtype=True)
    assert d["acc"].dtype == np.float32 and np.array_equal(d["acc"], vals)
    sidecar("packed_z.good.mat", 1000, [vals.astype(np.float32)], names=["acc"])

    # ---- bad MAT files
    write("empty.bad.mat", b"")
    write("text.bad.mat", b"hour,minute\n" * 20)
    write("headeronly.bad.mat", mat_header("MATLAB 5.0 MAT-file, no variables"))
    v73 = mat_header("MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .", version=0x0200)
    write("v73.bad.mat", v73 + b"\0" * (512 - len(v73)) + b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"x": np.arange(5.0)}, format="4")
    write("v4.bad.mat", buf.getvalue())
    with open(path("48k_cwru_like.good.mat"), "rb") as f:
        good = f.read()
    write("truncated.bad.mat", good[:700])
    with open(path("48k_cwru_like_z.good.mat"), "rb") as f:
        z = bytearray(f.read())
    for i in range(150, 190):
        z[i] ^= 0x5A
    write("badzlib.bad.mat", bytes(z))
    savemat("cell.bad.mat", {"c": np.array([[1.0], "x"], dtype=object)})
    savemat("struct.bad.mat", {"s": {"a": np.arange(4.0)}})
    savemat("sparse.bad.mat", {"sp": scipy.sparse.csc_matrix(np.eye(4))})
    savemat("complex.bad.mat", {"z": np.arange(6.0) + 1j})
    savemat("char.bad.mat", {"label": "bearing"})
    # dims say 1000 x 1 but 80 bytes of data
    bad = mat_matrix("<", "x", "double", (1000, 1), np.zeros(10), "double")
    write("dims.bad.mat", mat_header("MATLAB 5.0 MAT-file, bad dims") + bad)


# ---------------------------------------------------------------------------- CSV

def femto_rows(n, h, m, s, us0):
    hz = rng.standard_normal((n, 2)).astype(np.float32) * np.float32(0.5)
    hz = np.round(hz, 3).astype(np.float32)
    us = us0 + np.arange(n) * 39.0625
    return hz, us


def make_csv():
    # FEMTO, comma, as in Bearing2_1: hour,minute,second,microsecond(float),horizontal,vertical
    hz, us = femto_rows(20, 8, 14, 15, 884410.0)
    lines = ["8,14,15,%.4e,%.3f,%.3f" % (u, a, b) for u, (a, b) in zip(us, hz)]
    with open(path("acc_00001.good.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    us0 = float("%.4e" % us[0])
    sidecar("acc_00001.good.csv", 25600, [hz[:, 0], hz[:, 1]], names=["horizontal", "vertical"],
            start_ns=int(round(((8 * 60 + 14) * 60 + 15) * 1e9 + us0 * 1e3)))

    # FEMTO, semicolon, zero-padded, integer microseconds, CRLF, no final newline.
    hz, us = femto_rows(16, 9, 5, 7, 123456)
    lines = ["09;05;07;%d;%.3f;%.3f" % (int(u), a, b) for u, (a, b) in zip(us, hz)]
    with open(path("acc_00002.good.csv"), "w", newline="") as f:
        f.write("\r\n".join(lines))
    sidecar("acc_00002.good.csv", 25600, [hz[:, 0], hz[:, 1]], names=["horizontal", "vertical"],
            start_ns=((9 * 60 + 5) * 60 + 7) * 10**9 + 123456 * 1000)

    # FEMTO shape under another name: found by its shape, not by acc_.
    hz, us = femto_rows(8, 23, 59, 59, 999000)
    lines = ["23,59,59,%d,%.3f,%.3f" % (int(u), a, b) for u, (a, b) in zip(us, hz)]
    with open(path("femto_shape.good.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    sidecar("femto_shape.good.csv", 25600, [hz[:, 0], hz[:, 1]], names=["horizontal", "vertical"],
            start_ns=((23 * 60 + 59) * 60 + 59) * 10**9 + 999000 * 1000)

    # Generic: header row, comma, three channels (rate given by the test: 1000 Hz).
    x = np.round(rng.standard_normal((25, 3)), 6).astype(np.float32)
    with open(path("generic_header.good.csv"), "w") as f:
        f.write("x,y,z\n")
        for r in x:
            f.write("%r,%r,%r\n" % tuple(float(v) for v in r))
    sidecar("generic_header.good.csv", 1000, [x[:, c] for c in range(3)], names=["x", "y", "z"])

    # Generic: tab, no header, exponent notation, one channel has integers.
    x = rng.standard_normal((19, 2)).astype(np.float32)
    x[:, 1] = np.arange(19) - 9
    with open(path("generic_tab.good.csv"), "w") as f:
        for r in x:
            f.write("%.8e\t%d\n" % (r[0], int(r[1])))
    sidecar("generic_tab.good.csv", 1000, [np.float32(["%.8e" % v for v in x[:, 0]]), x[:, 1]])

    # Generic: semicolon, quoted header, CRLF, blank lines at the end.
    x = np.round(rng.uniform(-5, 5, (11, 2)), 4).astype(np.float32)
    with open(path("generic_semicolon.good.csv"), "w", newline="") as f:
        f.write('"left";"right"\r\n')
        for r in x:
            f.write("%.4f;%.4f\r\n" % (r[0], r[1]))
        f.write("\r\n\r\n")
    sidecar("generic_semicolon.good.csv", 1000, [x[:, 0], x[:, 1]], names=["left", "right"])

    # ---- bad CSV files
    write("empty.bad.csv", b"")
    write("headeronly.bad.csv", b"a,b,c\n")
    write("ragged.bad.csv", b"1,2,3\n4,5,6\n7,8\n9,10,11\n")
    write("nonnumeric.bad.csv", b"a,b\n1,2\n3,4\n5,abc\n")
    write("binary.bad.csv", b"\x00\x01\x02RIFF\x00\x00\x10\xff" * 8)
    write("acc_00003.bad.csv", b"8,14,15,884410,0.1\n8,14,15,884449,0.2\n")
    write("acc_00004.bad.csv", b"8,14,15,884410,0.1,0.2\n8,14,15,884449,0.3,0.4\n8,14,1")
    write("acc_00005.bad.csv", b"8,14,15,884410,0.1,0.2\n8,14,x,884449,0.3,0.4\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_wav()
    make_mat()
    make_csv()
    print("wrote", len(os.listdir(OUT)), "files into", os.path.normpath(OUT))
