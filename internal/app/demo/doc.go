// Package demo is `mhm demo`: the whole mhm pipeline on one machine, with no
// flags, no network and no setup, as the first thing a new user runs.
//
// It starts the embedded Kafka-protocol broker (pkg/stream/localbroker) and
// the three stream stages in one process (internal/pipeline: the same code
// as the ingest, spectro and detect workers), trains one model per machine
// with `train fit` (internal/app/train, on WAV files of the machine's healthy
// minutes), publishes the models to the models topic, streams the machines
// through ingest's HTTP API faster than real time, prints the anomaly
// events as they arrive, scores them against the known fault schedule and
// writes a report folder (PNG figures and index.html).
//
// Two sources: a simulated fleet (pkg/sim, default: mixed machine kinds with
// faults injected at known times) and, with Options.Data, a FEMTO/PRONOSTIA
// bearing replayed to failure (the run-to-failure protocol of
// ../shared/data/README.md). docs/demo.md describes both, the flags, sample
// output and timing.
package demo
