#!/usr/bin/env bash
# The real-data protocols of docs/results.md, run through the train CLI
# exactly as a user would (`make eval`). Each part is skipped, with a
# message, when its archive is absent.
#
#   scripts/eval.sh [cwru] [femto] [dcase] [femto-seeds] [dcase-ref]   (default: the first three;
#   femto-seeds repeats FEMTO with seeds 1-5, dcase-ref runs the PyTorch reference of
#   ../shared/bench on the same DCASE split)
#
# Environment: MHM_DATA  folder of the archives (default: ../shared/data
#                        beside the repository, else /work/shared/data)
#              OUT       results folder (default: .data/eval; .data/ is git-ignored)
#              EPOCHS    training epochs (default 100)
#              MODELS    model kinds for CWRU and FEMTO (default "dense-ae vae")
#              DCASE_MODELS  model kinds for DCASE (default "dense-ae")
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${MHM_DATA:-}
if [ -z "$DATA" ]; then
	for d in ../shared/data ../../shared/data /work/shared/data; do
		if [ -d "$d" ]; then DATA=$d; break; fi
	done
fi
OUT=${OUT:-.data/eval}
EPOCHS=${EPOCHS:-100}
MODELS=${MODELS:-dense-ae vae}
DCASE_MODELS=${DCASE_MODELS:-dense-ae}
PARTS=${*:-cwru femto dcase}
mkdir -p "$OUT" .data bin
go build -o bin/train ./cmd/train
T=bin/train

# extract ARCHIVE DIR: unpack DATA/ARCHIVE into .data/ unless .data/DIR exists.
extract() {
	if [ -d ".data/$2" ]; then return 0; fi
	if [ -z "$DATA" ] || [ ! -f "$DATA/$1" ]; then
		echo "skip: $1 not found (set MHM_DATA to the folder of the archives)" >&2
		return 1
	fi
	tar xJf "$DATA/$1" -C .data
}

# run NAME CMD...: print the command, run it, keep its output in OUT/NAME.txt.
run() {
	local name=$1; shift
	echo "\$ $*" | tee "$OUT/$name.txt"
	"$@" 2>"$OUT/$name.log" | tee -a "$OUT/$name.txt"
}

for part in $PARTS; do
case $part in
cwru)
	extract cwru.tar.xz cwru || continue
	C=.data/cwru
	# Labels: the healthy recording is normal, every seeded fault anomalous.
	{ echo "file,label"; echo "normal_0_97.mat,normal"
	  for f in "$C"/48k_*.mat; do echo "$(basename "$f"),anomaly"; done; } >"$OUT/cwru-labels.csv"
	for m in $MODELS; do
		extra=()
		if [ "$m" = vae ]; then extra=(--score log-evidence); fi
		# Windows of 0.2 s; the first 80% of the healthy recording is fitted,
		# its last quarter (60-80%) held out for the threshold; the last 20%
		# is scored against every fault file's windows.
		run "cwru-$m-fit" $T fit --machine cwru-de --model "$m" "${extra[@]}" --epochs "$EPOCHS" --quiet \
			--variable _DE_time --segment 0.2s --calibrate-split 0.25 \
			--out "$OUT/cwru-$m.mhm" "$C/normal_0_97.mat@0:0.8"
		$T eval --model "$OUT/cwru-$m.mhm" --labels "$OUT/cwru-labels.csv" --per-file --json \
			"$C/normal_0_97.mat@0.8:1" "$C"/48k_*.mat >"$OUT/cwru-$m-eval.json"
		run "cwru-$m-eval" $T eval --model "$OUT/cwru-$m.mhm" --labels "$OUT/cwru-labels.csv" --per-file \
			--plots "$OUT/cwru-$m" "$C/normal_0_97.mat@0.8:1" "$C"/48k_*.mat
	done
	;;
femto)
	extract femto.tar.xz femto || continue
	for b in Bearing2_1 Bearing2_2; do
		dir=.data/femto/Learning_set/$b
		for m in $MODELS; do
			# The first 20% of the snapshots (natural order): fitted on the
			# first 15%, threshold on 15-20% (their last quarter); then
			# every snapshot is scored in order, monitoring from 20%.
			run "femto-$b-$m-fit" $T fit --machine "femto-$b" --model "$m" --epochs "$EPOCHS" --quiet \
				--channel horizontal --calibrate-split 0.25 --out "$OUT/femto-$b-$m.mhm" "$dir@0:0.2"
			run "femto-$b-$m-timeline" $T timeline --model "$OUT/femto-$b-$m.mhm" --plots "$OUT/femto-$b-$m" \
				--indicators rms,kurtosis "$dir"
		done
	done
	;;
femto-seeds)
	# How much the FEMTO figures move with the seed (weights, shuffling).
	extract femto.tar.xz femto || continue
	for b in Bearing2_1 Bearing2_2; do
		dir=.data/femto/Learning_set/$b
		for m in $MODELS; do
			for seed in ${SEEDS:-1 2 3 4 5}; do
				name=femto-seeds/$b-$m-seed$seed
				mkdir -p "$OUT/femto-seeds"
				run "$name-fit" $T fit --machine "femto-$b" --model "$m" --epochs "$EPOCHS" --seed "$seed" --quiet \
					--channel horizontal --calibrate-split 0.25 --out "$OUT/$name.mhm" "$dir@0:0.2"
				run "$name-timeline" $T timeline --model "$OUT/$name.mhm" --plots "$OUT/$name" "$dir"
			done
		done
	done
	;;
dcase)
	extract dcase2020-id00.tar.xz dcase2020-id00 || continue
	D=.data/dcase2020-id00
	for m in $DCASE_MODELS; do
		# The first 60 of the 75 normal clips (80%): the first 48 fitted,
		# the last 12 for the threshold; timed.
		echo "\$ /usr/bin/time $T fit --machine id_00 --model $m --epochs $EPOCHS --quiet --out $OUT/dcase-$m.mhm $D/train@0:0.8" \
			| tee "$OUT/dcase-$m-fit.txt"
		/usr/bin/time -f '%e s wall, %U s user, %S s sys, %M KB max RSS' -o "$OUT/dcase-$m-time.txt" \
			$T fit --machine id_00 --model "$m" --epochs "$EPOCHS" --quiet --out "$OUT/dcase-$m.mhm" "$D/train@0:0.8" \
			| tee -a "$OUT/dcase-$m-fit.txt"
		tee -a "$OUT/dcase-$m-fit.txt" <"$OUT/dcase-$m-time.txt"
		uptime | tee -a "$OUT/dcase-$m-fit.txt"
		# The other 15 normal clips and the anomalous one.
		run "dcase-$m-eval" $T eval --model "$OUT/dcase-$m.mhm" --plots "$OUT/dcase-$m" \
			"$D/train@0.8:1" "$D"/test/anomaly_*.wav
	done
	;;
dcase-ref)
	# The same split through the PyTorch reference of the DCASE baseline
	# (../shared/bench/dcase_ae.py; Debian's python3-torch), for comparison.
	extract dcase2020-id00.tar.xz dcase2020-id00 || continue
	REF=${MHM_BENCH:-$(dirname "$DATA")/bench}/dcase_ae.py
	if [ ! -f "$REF" ] || ! /usr/bin/python3 -c 'import torch, sklearn' 2>/dev/null; then
		echo "skip: dcase-ref needs $REF and /usr/bin/python3 with torch and sklearn" >&2; continue
	fi
	D=$(pwd)/.data/dcase2020-id00
	R=$OUT/dcase-ref
	rm -rf "$R"; mkdir -p "$R/train" "$R/test"
	mapfile -t clips < <(ls "$D"/train/normal_*.wav | sort)
	for c in "${clips[@]:0:60}"; do ln -s "$c" "$R/train/"; done
	for c in "${clips[@]:60}" "$D"/test/anomaly_*.wav; do ln -s "$c" "$R/test/"; done
	run dcase-ref /usr/bin/time -f '%e s wall, %U s user, %S s sys' /usr/bin/python3 "$REF" "$R/train" "$R/test" \
		--epochs "$EPOCHS" --threads 1 --json "$OUT/dcase-ref.json"
	;;
*)
	echo "unknown part $part: want cwru, femto or dcase" >&2; exit 2 ;;
esac
done
if command -v python3 >/dev/null; then
	python3 scripts/eval_tables.py "$OUT" | tee "$OUT/results.md"
fi
echo "results in $OUT"
