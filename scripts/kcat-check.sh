#!/usr/bin/env bash
# kcat-check: an independent Kafka client (Debian's kcat, librdkafka) feeds the
# pipeline with raw frames and reads its anomaly events and dead letters.
#
#   scripts/kcat-check.sh            # builds bin/, exits 0 when every check passes
#   NO_BUILD=1 scripts/kcat-check.sh # use the programs already in bin/
#
# What it does, in a temporary folder:
#  1. writes two 25.6 kHz recordings with python3 + numpy: 40 s of a healthy
#     machine (shaft harmonics, a resonance, noise) and a 20 s test run whose
#     seconds 10-16 carry a 5.4 kHz fault tone;
#  2. fits a model on the healthy one with bin/train (dense autoencoder on the
#     vibration front end, 1 s windows, alarm on 2 of 2 windows) and publishes
#     it to mhm.models with `detect publish`;
#  3. starts `mhm broker` on a free loopback port, `spectro run` and
#     `detect run` (both read the models topic);
#  4. cuts the test run into binary frame files with `ingest encode` and
#     produces them with `kcat -P` (one file = one message, key = machine),
#     plus one garbage message;
#  5. reads mhm.anomalies and mhm.dlq with `kcat -C` and checks: events only
#     for windows inside the fault, with the machine, the 1 s window and the
#     fault's frequency among the top bins; the garbage in the DLQ with reason
#     bad_magic.
#
# Needs: go, kcat, python3 with numpy, and cmd/train (the trainer) in the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
PY=${PYTHON:-/usr/bin/python3}
MACHINE=kc-1

fail() { echo "kcat-check: FAIL: $*" >&2; exit 1; }
command -v kcat >/dev/null || fail "kcat is not installed (apt-get install kcat)"
"$PY" -c 'import numpy' 2>/dev/null || fail "$PY has no numpy"
if [ -z "${NO_BUILD:-}" ]; then
	mkdir -p "$BIN"
	go build -o "$BIN/" ./cmd/...
fi
for p in mhm ingest spectro detect train; do
	[ -x "$BIN/$p" ] || fail "$BIN/$p is missing (the model is fitted with cmd/train)"
done

WORK=$(mktemp -d /tmp/kcat-check.XXXXXX)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "kcat-check: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "kcat-check: 1. recordings"
"$PY" - "$WORK" <<'PY'
import sys, numpy as np, wave
out = sys.argv[1]
SR = 25600
def machine(seconds, seed, fault=None):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = sum(a * np.sin(2 * np.pi * 29.7 * k * t + k) for k, a in ((1, .3), (2, .15), (3, .08)))
    # a structural resonance at 3 kHz rung by noise, and broadband noise
    n = rng.standard_normal(len(t))
    spec = np.fft.rfft(n); f = np.fft.rfftfreq(len(n), 1 / SR)
    res = np.fft.irfft(spec / (1 + ((f - 3000) / 150) ** 2), len(n))
    x = x + 0.5 * res / res.std() * 0.05 + 0.03 * rng.standard_normal(len(t))
    if fault:
        a, b = fault
        m = (t >= a) & (t < b)
        x[m] += 0.05 * np.sin(2 * np.pi * 5400 * t[m])
    return x
def write(name, x):
    pcm = np.clip(np.round(x / 2 * 32767), -32768, 32767).astype('<i2')
    with wave.open(f"{out}/{name}", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(SR); w.writeframes(pcm.tobytes())
write("healthy.wav", machine(40, 1))
write("test.wav", machine(20, 2, fault=(10, 16)))
PY

echo "kcat-check: 2. model"
mkdir -p "$WORK/models"
"$BIN/train" fit --quiet --machine "$MACHINE" --model dense-ae --epochs 30 --decision-window 1s --persist 2/2 \
	--out "$WORK/models/$MACHINE.mhm" "$WORK/healthy.wav" >"$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "train fit"; }
tail -3 "$WORK/train.log"

echo "kcat-check: 3. broker and workers"
PORT=$(freeport)
BROKERS=127.0.0.1:$PORT
"$BIN/mhm" broker -addr "$BROKERS" -partitions 2 >"$WORK/broker.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "listening" "$WORK/broker.log" && break; sleep 0.1; done
grep -q "listening" "$WORK/broker.log" || { cat "$WORK/broker.log"; fail "broker did not start"; }
"$BIN/detect" publish -brokers "$BROKERS" "$WORK/models/$MACHINE.mhm" || fail "detect publish"
SPORT=$(freeport)
DPORT=$(freeport)
"$BIN/spectro" run -brokers "$BROKERS" -http-addr "127.0.0.1:$SPORT" -commit-interval 200ms >"$WORK/spectro.log" 2>&1 &
PIDS+=($!)
"$BIN/detect" run -brokers "$BROKERS" -http-addr "127.0.0.1:$DPORT" -commit-interval 200ms -detector kcat-check >"$WORK/detect.log" 2>&1 &
PIDS+=($!)
ready() { "$PY" -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$1/readyz', timeout=2).status == 200 else 1)" 2>/dev/null; }
for _ in $(seq 300); do ready "$SPORT" && ready "$DPORT" && break; sleep 0.1; done
ready "$DPORT" || { tail -20 "$WORK/detect.log"; fail "detect not ready (models loaded and connected)"; }
ready "$SPORT" || { tail -20 "$WORK/spectro.log"; fail "spectro not ready"; }

echo "kcat-check: 4. frames through kcat"
START=$(( $(date +%s) * 1000000000 ))
"$BIN/ingest" encode --machine "$MACHINE" --sensor acc --frame-ms 100 --start "$START" --out "$WORK/frames" "$WORK/test.wav"
# shellcheck disable=SC2046
kcat -P -b "$BROKERS" -t mhm.raw -k "$MACHINE" $(ls "$WORK"/frames/*.bin | sort) || fail "kcat -P frames"
printf 'not a frame' | kcat -P -b "$BROKERS" -t mhm.raw -k "$MACHINE" || fail "kcat -P garbage"

echo "kcat-check: 5. events and dead letters through kcat"
EVENTS=$WORK/events.jsonl
for _ in $(seq 120); do
	kcat -C -b "$BROKERS" -t mhm.anomalies -o beginning -e -q -f '%s\n' >"$EVENTS" 2>/dev/null || true
	kcat -C -b "$BROKERS" -t mhm.scores -o beginning -e -q -f '%s\n' >"$WORK/scores.jsonl" 2>/dev/null || true
	# the last window of the run closes with its last patch: 18 windows
	[ "$(wc -l <"$WORK/scores.jsonl")" -ge 18 ] && break
	sleep 0.5
done
kcat -C -b "$BROKERS" -t mhm.dlq -o beginning -e -q -f '%h\t%s\n' >"$WORK/dlq.txt" 2>/dev/null || true
"$PY" - "$START" "$MACHINE" "$EVENTS" "$WORK/scores.jsonl" "$WORK/dlq.txt" <<'PY'
import json, sys
start, machine, evf, scf, dlqf = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
events = [json.loads(l) for l in open(evf) if l.strip()]
scores = [json.loads(l) for l in open(scf) if l.strip()]
def sec(ns): return (ns - start) / 1e9
bad = []
print(f"  {len(scores)} windows scored, {len(events)} events")
for s in sorted(scores, key=lambda s: s["window_start_ns"]):
    print(f"  window {sec(s['window_start_ns']):4.0f}s score {s['score']:10.4f} threshold {s['threshold']:.4f} anomalous {s['anomalous']}")
if len(scores) < 18: bad.append(f"only {len(scores)} windows scored")
if not events: bad.append("no event")
for e in events:
    a, b = sec(e["window_start_ns"]), sec(e["window_end_ns"])
    top = e["bands"][0] if e["bands"] else None
    print(f"  event [{a:.0f}s, {b:.0f}s) score {e['score']:.4f} severity {e['severity']:.2f} consecutive {e.get('consecutive')} top {top}")
    if e["machine"] != machine or e["sensor"] != "acc": bad.append(f"event for {e['machine']}/{e['sensor']}")
    if b - a != 1: bad.append(f"window of {b-a} s")
    if not (10 <= a and b <= 17): bad.append(f"event for window [{a}, {b}) s outside the fault (10-16 s)")
    if not any(x["low_hz"] <= 5400 <= x["high_hz"] for x in e["bands"]): bad.append(f"5.4 kHz not among the top bins {e['bands']}")
dlq = [l for l in open(dlqf) if l.strip()]
if not any("mhm.dlq.reason=bad_magic" in l and l.rstrip().endswith("not a frame") for l in dlq):
    bad.append(f"garbage not dead-lettered with bad_magic: {dlq[:3]}")
if bad:
    print("kcat-check: FAIL:\n  " + "\n  ".join(bad)); sys.exit(1)
print("kcat-check: OK")
PY
