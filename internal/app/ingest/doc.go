// Package ingest implements the ingest program, the pipeline's entry:
//
//   - Service / Handler: the HTTP API for sensor gateways, POST /v1/frames
//     with a binary or JSON raw frame (docs/wire.md), answered 202 once
//     Kafka acknowledged the frame on the raw topic, keyed by machine id;
//     4xx with a JSON reason for bad input, an optional bearer token and a
//     body size limit.
//   - Replay: recorded files (WAV, FEMTO CSV, MAT, CSV via pkg/signal) cut
//     into consecutive raw frames with continuous timestamps and sequence
//     numbers, sent to a Sink: Kafka (KafkaSink), an ingest server
//     (HTTPSink) or one file per frame (DirSink, for kcat and curl).
//
// Program is the verb table cmd/ingest runs; docs/pipeline.md documents the
// flags, their MHM_* variables and what a gateway can rely on.
package ingest
