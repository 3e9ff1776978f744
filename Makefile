# mhm: `make demo` runs the pipeline on an embedded default, `make test` runs the tests.
GO      ?= go
PYTHON  ?= /usr/bin/python3
BIN     := bin
PKGS    := ./...
# Packages with goroutines of their own: tested again under the race detector.
RACE_PKGS := ./pkg/stream/... ./pkg/wire/... ./cmd/mhm/... ./pkg/nn/internal/... ./internal/app/... ./internal/pipeline/...

.PHONY: all build test test-race test-noasm bench bench-stft bench-fft bench-nn bench-kafka \
        lint fuzz golden eval demo clean help bench-stream kcat-check docker compose-check avx512-emu

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

build: ## build every program into bin/
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

test: ## vet, the whole suite (shuffled), and the concurrent packages under -race
	$(GO) vet $(PKGS)
	$(GO) test -shuffle=on -timeout 15m $(PKGS)
	$(GO) test -race -shuffle=on -timeout 10m $(RACE_PKGS)
	$(GO) test -tags noasm -timeout 10m ./pkg/nn/... ./pkg/vae/...

test-noasm: ## the network packages on the pure-Go GEMM (-tags noasm)
	$(GO) test -tags noasm ./pkg/nn/... ./pkg/vae/...

test-race: ## the concurrent packages under the race detector
	$(GO) test -race -shuffle=on $(RACE_PKGS)

bench: ## every Go benchmark, short
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s $(PKGS)

bench-stft: ## the front end against scipy.signal.stft + numpy mel, same run
	$(PYTHON) bench/stft_ref.py --go

bench-fft: ## go-dsp against gonum against our FFT (separate module)
	cd bench/fftcmp && $(GO) test -run '^$$' -bench . -benchmem -count 5 -benchtime 0.5s

bench-nn: ## the DCASE network: ours (1 and 2 cores) against PyTorch (1 and 2 threads, BLAS pinned) in the same run, with ratios and % of peak
	$(GO) run ./bench/nn -rounds 3 -seconds 1
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'DCASE|CAES' -benchtime 2s -benchmem -cpu 1 ./pkg/nn/
	GOMAXPROCS=2 $(GO) test -run '^$$' -bench 'DCASE|CAES' -benchtime 2s -benchmem -cpu 2 ./pkg/nn/

bench-gemm: ## GEMM GFLOP/s on the DCASE shapes against gonum, and the machine's FMA peak
	GEMM_TUNE=1 $(GO) test -count=1 -run Figures -v -cpu 2 ./pkg/nn/internal/gemm
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'Sgemm|PeakFMA' -benchmem -cpu 1 ./pkg/nn/internal/gemm
	GOMAXPROCS=2 $(GO) test -run '^$$' -bench 'Sgemm|PeakFMA' -benchmem -cpu 2 ./pkg/nn/internal/gemm

bench-vae: ## log-evidence scoring with K = 1, 16, 128 against one forward pass
	GOMAXPROCS=1 $(GO) test -run '^$$' -bench 'DCASE|Small' -benchtime 3x -count 3 -cpu 1 -benchmem ./pkg/vae/

avx512-emu: ## run the gemm tests on an emulated AVX-512 CPU (Bochs, Skylake-X; apt-get as root; 8-10 min)
	scripts/avx512emu/run.sh

generate: ## regenerate the avo assembly kernels
	$(GO) generate ./pkg/nn/internal/gemm

bench-stream: ## ingest/spectro/detect on 100 simulated 16 kHz sensors against py_pipeline.py, same broker, same run
	$(GO) run ./bench/stream -python $(PYTHON) -json bench-stream.json

kcat-check: build ## kcat produces raw frames the pipeline accepts and reads its events and dead letters
	NO_BUILD=1 scripts/kcat-check.sh

compose-check: ## validate docker-compose.yml as `docker compose config` does (compose-go; no Docker needed)
	cd scripts/composecheck && $(GO) run . ../../docker-compose.yml >/dev/null

docker: ## the image of every program (needs Docker)
	docker build -t mhm:dev .

bench-kafka: ## franz-go against segmentio/kafka-go on the same kfake broker (separate module)
	cd bench/kafkacmp && $(GO) run . -records 50000 -size 2600 -rounds 3

lint: ## go vet, gofmt and go mod tidy leave nothing to change
	$(GO) vet $(PKGS)
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; test -z "$$out" || { echo "gofmt would change:"; echo "$$out"; exit 1; }
	$(GO) mod tidy
	@git diff --exit-code -- go.mod go.sum || { echo "go mod tidy changed go.mod/go.sum: commit the result"; exit 1; }

fuzz: ## a short run of every decoder fuzzer
	for t in FuzzRawFrame FuzzRawFrameJSON FuzzPatch FuzzEvent; do $(GO) test ./pkg/wire -run '^$$' -fuzz "^$$t$$" -fuzztime 20s || exit 1; done
	$(GO) test ./pkg/model -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 20s
	$(GO) test ./pkg/nn -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 20s

golden: ## regenerate the reference files (needs Debian's python3-numpy, python3-scipy, python3-sklearn)
	$(PYTHON) testdata/gen/stft_golden.py
	$(PYTHON) testdata/gen/signal_gen.py
	cd pkg/threshold && $(PYTHON) testdata/gen/threshold_golden.py
	cd pkg/eval && $(PYTHON) testdata/gen/eval_golden.py
	cd pkg/indicator && $(PYTHON) testdata/gen/indicator_golden.py

eval: build ## the real-data protocols of docs/results.md (CWRU, FEMTO, DCASE id_00); absent archives are skipped
	scripts/eval.sh

demo: build ## the whole pipeline on an embedded broker and a simulated fleet
	$(BIN)/mhm demo

clean: ## remove built programs
	rm -rf $(BIN)
