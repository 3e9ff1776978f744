// Package detect implements the detect program: the stream worker that
// scores spectrogram patches with each machine's model and turns the scores
// into decisions, and the publisher of model artifacts.
//
// Per (machine, sensor) stream the Worker keeps the patches waiting to be
// scored (scored together, up to Config.Batch, or when a window closes),
// a threshold.WindowAggregator over the model's decision windows and a
// threshold.Persistence with its rule. A closed window is compared with the
// model's threshold; while the persistence rule holds the alarm raised,
// every window above the threshold becomes a wire.Event on the anomalies
// topic, and every window a wire.Score on the scores topic.
//
// Models come from a catalog (package catalog): a watched directory and the
// compacted models topic, hot-reloaded; a new version takes over at the
// stream's next window boundary. Per-partition window state is rebuilt on
// assignment by re-reading the records before the committed offset, so a
// window left open by a crashed or rebalanced worker is still decided on
// all its patches (stream.ReadBack). A stream that stops sending has its
// open windows decided by the idle flush (Config.FlushAfter), which runs
// beside the record handler under the partition's mutex and produces with
// its own client. docs/pipeline.md has the semantics and the flags.
package detect
