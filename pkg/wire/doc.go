// Package wire defines mhm's wire formats: the raw sensor frame (compact
// little-endian binary, plus a JSON form for the HTTP API), the spectrogram
// patch (binary) and the anomaly event and score records (JSON).
//
// The package is pure: it imports no Kafka client, logger or metrics, so the
// ingest gateway, the stream workers and any offline tool decode the same
// bytes the same way. The byte layouts, with worked examples, are in
// docs/wire.md.
//
// # Allocation
//
// AppendRawFrame and AppendPatch append to dst and allocate nothing when dst
// has the capacity. DecodeRawFrame and DecodePatch decode into a value the
// caller reuses: sample and value slices are resliced within their capacity,
// and the machine, sensor and feature-hash strings are kept when the bytes
// equal what the value already holds, so decoding a steady stream allocates
// nothing.
//
// # Errors
//
// Decoders never panic on bad input and never allocate more than the input
// length justifies: every length field is checked against the bytes that
// remain before anything is allocated. Each error wraps one of the sentinels
// below, and Reason maps it to a short label of bounded cardinality for a
// dead-letter header or a metric label. Encoders do not validate: call
// Validate first; they panic only when the value cannot be represented at all
// (a string longer than MaxStringLen, more than MaxSamples samples).
package wire
