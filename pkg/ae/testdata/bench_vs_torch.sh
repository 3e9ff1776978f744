#!/bin/sh
# Measures the DCASE 2020 preset in Go (pkg/ae's BenchmarkDCASETrain and
# BenchmarkDCASEScore/folded) and in PyTorch (pkg/nn/testdata/dcase_torch_bench.py,
# the same network on Debian's python3-torch) in the same run, one and two
# threads, interleaved, and prints vectors per second and the ratio Go/PyTorch.
#
#   pkg/ae/testdata/bench_vs_torch.sh            # from anywhere in the repository
#   BENCHTIME=3s TORCH_SECONDS=3 pkg/ae/testdata/bench_vs_torch.sh
set -eu
cd "$(dirname "$0")/../../.."
BENCHTIME=${BENCHTIME:-1s}
TORCH_SECONDS=${TORCH_SECONDS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
for t in 1 2; do
	go test -run '^$' -bench 'DCASETrain|DCASEScore/^folded$' -benchtime "$BENCHTIME" -cpu "$t" ./pkg/ae/ |
		sed "s/^/go threads=$t /"
	"$PYTHON" pkg/nn/testdata/dcase_torch_bench.py --threads "$t" --seconds "$TORCH_SECONDS" | sed 's/^/torch /'
done | awk '
/^go .*Benchmark/ {
	split($2, a, "="); t = a[2]
	name = $3; sub(/-[0-9]+$/, "", name)
	for (i = 4; i < NF; i++) if ($(i+1) == "vectors/s") v = $i
	if (name ~ /DCASETrain$/) k = "train batch=512"
	else { sub(/.*batch=/, "", name); k = "infer batch=" name }
	go[k " threads=" t] = v; keys[k " threads=" t] = 1
}
/^torch / {
	split($2, a, "="); t = a[2]
	split($NF, b, "="); k = $3 " " $4
	torch[k " threads=" t] = b[2]; keys[k " threads=" t] = 1
}
END {
	printf "%-18s %-8s %12s %12s %8s\n", "what", "threads", "Go vec/s", "torch vec/s", "Go/torch"
	n = split("train batch=512|infer batch=1|infer batch=64|infer batch=4096", order, "|")
	for (i = 1; i <= n; i++) for (t = 1; t <= 2; t++) {
		k = order[i] " threads=" t
		if (!(k in keys)) continue
		r = (torch[k] > 0) ? sprintf("%.2f", go[k] / torch[k]) : "-"
		printf "%-18s %-8s %12.0f %12.0f %8s\n", order[i], t, go[k], torch[k], r
	}
}'
