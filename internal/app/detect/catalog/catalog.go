// Package catalog keeps the current model of every machine for the stream
// workers: it loads artifacts from a directory (polled for changes) and
// from the compacted models topic (read from the start by every instance,
// without a consumer group), and decides per (machine, sensor) which one is
// current. detect binds each artifact to a scorer; spectro only reads its
// feature configuration, so that the two always agree on the front end.
//
// Which artifact wins: for a (machine, sensor) the candidate with the
// latest Meta.Created wins, ties broken by the larger Version, whichever
// source (file or topic record) it came from and in whatever order they
// arrived, so every instance converges on the same model. A model with an
// empty Meta.Sensor serves every sensor of its machine that has no model of
// its own. A deleted file or a tombstone (a record with an empty value)
// withdraws that candidate.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/model"
	"github.com/mhmstream/mhm/pkg/stream"
)

// MaxArtifactBytes is the largest artifact read from the models topic
// (64 MiB); the topic's max.message.bytes must allow the artifacts
// published (docs/pipeline.md).
const MaxArtifactBytes = 64 << 20

// Key names a stream's model: a machine and, for a sensor-specific model,
// a sensor ("" for a machine-wide model).
type Key struct{ Machine, Sensor string }

// Entry is a model the catalog holds: its metadata, what the bind function
// made of it, and where it came from.
type Entry[T any] struct {
	Meta   model.Meta
	Value  T
	Source string // "file:PATH" or "topic:TOPIC/PARTITION@OFFSET"
}

// Config configures a Catalog.
type Config struct {
	// Dir is a folder of artifacts to load and watch ("" = none). Every
	// regular file in it except dot-files and *.tmp is read as an artifact.
	Dir string
	// Poll is how often Dir is checked for new, changed and removed files;
	// default 2 s.
	Poll time.Duration
	// Stream gives the brokers and Topics.Models ("" or Brokers empty: no
	// topic).
	Stream stream.Config
	// Metrics registers mhm_models_loaded, mhm_model_load_errors_total and
	// mhm_model_changes_total when not nil.
	Metrics prometheus.Registerer
	// KgoOpts are extra options for the topic reader (tests).
	KgoOpts []kgo.Opt
}

// Catalog holds the current model per Key. Create it with New, start it
// with Run; Lookup and Gen are safe for concurrent use.
type Catalog[T any] struct {
	cfg  Config
	bind func(*model.Artifact) (T, error)
	log  zerolog.Logger

	gen atomic.Uint64

	mu      sync.RWMutex
	cands   map[Key]map[string]*Entry[T] // candidates by source id ("file:PATH" / "topic:KEY")
	current map[Key]*Entry[T]
	files   map[string]fileStamp // path -> what was loaded (or failed)
	dirDone bool
	caught  bool // topic read up to the end offsets found at start
	topicOn bool
	dirOn   bool
	err     error // last load error, for readiness messages

	loaded  *prometheus.GaugeVec
	errs    *prometheus.CounterVec
	changes prometheus.Counter
}

type fileStamp struct {
	mod  time.Time
	size int64
	src  string // candidate source id, "" if the file failed
}

// New returns a catalog whose entries are bind(artifact). bind is called
// once per artifact loaded; an error rejects the artifact (counted and
// logged; an older candidate stays current).
func New[T any](cfg Config, bind func(*model.Artifact) (T, error), log zerolog.Logger) *Catalog[T] {
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	c := &Catalog[T]{
		cfg: cfg, bind: bind, log: log,
		cands: map[Key]map[string]*Entry[T]{}, current: map[Key]*Entry[T]{}, files: map[string]fileStamp{},
		dirOn:   cfg.Dir != "",
		topicOn: cfg.Stream.Topics.Models != "" && len(cfg.Stream.Brokers) > 0,
		loaded:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mhm_models_loaded", Help: "1 for each model currently in use, by machine, sensor (empty: every sensor) and version."}, []string{"machine", "sensor", "version"}),
		errs:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mhm_model_load_errors_total", Help: "Artifacts that could not be loaded, by source (file, topic)."}, []string{"source"}),
		changes: prometheus.NewCounter(prometheus.CounterOpts{Name: "mhm_model_changes_total", Help: "Changes of the current model of some (machine, sensor)."}),
	}
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(c.loaded, c.errs, c.changes)
	}
	return c
}

// Gen returns a number that changes whenever any current model changes, so
// a hot path can cache Lookup results and re-check only when it moved.
func (c *Catalog[T]) Gen() uint64 { return c.gen.Load() }

// Lookup returns the model of (machine, sensor): the sensor's own if there
// is one, else the machine-wide one.
func (c *Catalog[T]) Lookup(machine, sensor string) (*Entry[T], bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e, ok := c.current[Key{machine, sensor}]; ok {
		return e, true
	}
	e, ok := c.current[Key{machine, ""}]
	return e, ok
}

// Entries returns the current models, sorted by machine and sensor.
func (c *Catalog[T]) Entries() []*Entry[T] {
	c.mu.RLock()
	out := make([]*Entry[T], 0, len(c.current))
	for _, e := range c.current {
		out = append(out, e)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Meta, out[j].Meta
		return a.Machine < b.Machine || a.Machine == b.Machine && a.Sensor < b.Sensor
	})
	return out
}

// Ready returns nil once the directory was scanned, the topic was read up
// to where it ended when Run started, and at least one model is loaded;
// otherwise an error saying which is missing (a readiness check).
func (c *Catalog[T]) Ready(context.Context) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	switch {
	case c.dirOn && !c.dirDone:
		return errors.New("models: directory not scanned yet")
	case c.topicOn && !c.caught:
		return errors.New("models: topic not read to its end yet")
	case len(c.current) == 0:
		if c.err != nil {
			return fmt.Errorf("models: none loaded (last error: %v)", c.err)
		}
		return errors.New("models: none loaded")
	}
	return nil
}

// Loaded reports whether the initial load (directory scan, topic read to
// its end at start) is complete, whatever was found.
func (c *Catalog[T]) Loaded() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return (!c.dirOn || c.dirDone) && (!c.topicOn || c.caught)
}

// WaitLoaded blocks until Loaded or ctx is done.
func (c *Catalog[T]) WaitLoaded(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !c.Loaded() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Run loads and watches the sources until ctx is cancelled. It returns nil
// then, or an error if the topic reader cannot be created.
func (c *Catalog[T]) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	var topicErr error
	if c.topicOn {
		cl, err := c.topicClient()
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); topicErr = c.readTopic(ctx, cl) }()
	}
	if c.dirOn {
		wg.Add(1)
		go func() { defer wg.Done(); c.watchDir(ctx) }()
	}
	wg.Wait()
	return topicErr
}

// AddArtifact offers an artifact as a candidate from source src (any
// stable id; a later call with the same src replaces it). It is what the
// file and topic readers call; tests and embedders may call it directly.
func (c *Catalog[T]) AddArtifact(src string, a *model.Artifact, where string) error {
	v, err := c.bind(a)
	if err != nil {
		return fmt.Errorf("models: %s (%s): %w", where, a.Meta.Version, err)
	}
	k := Key{a.Meta.Machine, a.Meta.Sensor}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.cands[k]
	if m == nil {
		m = map[string]*Entry[T]{}
		c.cands[k] = m
	}
	m[src] = &Entry[T]{Meta: a.Meta, Value: v, Source: where}
	c.elect(k)
	return nil
}

// Remove withdraws the candidate from source src.
func (c *Catalog[T]) Remove(src string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, m := range c.cands {
		if _, ok := m[src]; ok {
			delete(m, src)
			if len(m) == 0 {
				delete(c.cands, k)
			}
			c.elect(k)
		}
	}
}

// newer reports whether a should win over b.
func newer(a, b *model.Meta) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.After(b.Created)
	}
	return a.Version > b.Version
}

// elect recomputes the current entry of k. c.mu is held.
func (c *Catalog[T]) elect(k Key) {
	var best *Entry[T]
	for _, e := range c.cands[k] {
		if best == nil || newer(&e.Meta, &best.Meta) {
			best = e
		}
	}
	old := c.current[k]
	switch {
	case best == nil && old == nil:
		return
	case best == nil:
		delete(c.current, k)
	case old != nil && old.Meta.Version == best.Meta.Version:
		c.current[k] = best // same model, maybe from another source
		return
	default:
		c.current[k] = best
	}
	if old != nil {
		c.loaded.DeleteLabelValues(k.Machine, k.Sensor, old.Meta.Version)
	}
	if best != nil {
		c.loaded.WithLabelValues(k.Machine, k.Sensor, best.Meta.Version).Set(1)
		c.log.Info().Str("machine", k.Machine).Str("sensor", k.Sensor).Str("version", best.Meta.Version).
			Str("kind", best.Meta.Kind).Str("source", best.Source).Msg("model in use")
	} else {
		c.log.Info().Str("machine", k.Machine).Str("sensor", k.Sensor).Msg("model withdrawn")
	}
	c.changes.Inc()
	c.gen.Add(1)
}

func (c *Catalog[T]) loadErr(source string, err error) {
	c.errs.WithLabelValues(source).Inc()
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	c.log.Warn().Err(err).Str("source", source).Msg("model not loaded")
}

// ScanDir checks the directory once: loads new and changed files and
// withdraws removed ones.
func (c *Catalog[T]) ScanDir() {
	ents, err := os.ReadDir(c.cfg.Dir)
	if err != nil {
		c.loadErr("file", fmt.Errorf("models: read dir: %w", err))
	}
	seen := map[string]bool{}
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		path := filepath.Join(c.cfg.Dir, name)
		st, err := os.Stat(path) // follows symlinks
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		seen[path] = true
		c.mu.RLock()
		old, had := c.files[path]
		c.mu.RUnlock()
		if had && old.mod.Equal(st.ModTime()) && old.size == st.Size() {
			continue
		}
		stamp := fileStamp{mod: st.ModTime(), size: st.Size()}
		src := "file:" + path
		a, err := model.ReadFile(path)
		if err == nil {
			err = c.AddArtifact(src, a, src)
		}
		if err != nil {
			c.loadErr("file", err)
			if had && old.src != "" {
				c.Remove(old.src) // the file no longer holds that model
			}
		} else {
			stamp.src = src
		}
		c.mu.Lock()
		c.files[path] = stamp
		c.mu.Unlock()
	}
	c.mu.Lock()
	var gone []string
	for path, st := range c.files {
		if !seen[path] {
			delete(c.files, path)
			if st.src != "" {
				gone = append(gone, st.src)
			}
		}
	}
	c.dirDone = true
	c.mu.Unlock()
	for _, src := range gone {
		c.Remove(src)
	}
}

func (c *Catalog[T]) watchDir(ctx context.Context) {
	t := time.NewTicker(c.cfg.Poll)
	defer t.Stop()
	for {
		c.ScanDir()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Catalog[T]) topicClient() (*kgo.Client, error) {
	opts, err := c.cfg.Stream.ClientOpts()
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.ConsumeTopics(c.cfg.Stream.Topics.Models),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(MaxArtifactBytes),
		kgo.FetchMaxPartitionBytes(MaxArtifactBytes),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.WithLogger(stream.KgoLogger{L: c.log}),
	)
	opts = append(opts, c.cfg.KgoOpts...)
	return kgo.NewClient(opts...)
}

// readTopic reads the models topic from the start until ctx is done.
func (c *Catalog[T]) readTopic(ctx context.Context, cl *kgo.Client) error {
	defer cl.Close()
	topic := c.cfg.Stream.Topics.Models
	// The end offsets at start: the catalog is caught up once it has read
	// every partition up to them.
	var ends map[int32]int64
	for ends == nil {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		adm := kadm.NewClient(cl)
		lo, err := adm.ListEndOffsets(lctx, topic)
		if err == nil {
			err = lo.Error()
		}
		var so kadm.ListedOffsets
		if err == nil {
			so, err = adm.ListStartOffsets(lctx, topic)
			if err == nil {
				err = so.Error()
			}
		}
		cancel()
		if err == nil {
			ends = map[int32]int64{}
			lo.Each(func(o kadm.ListedOffset) {
				if s, ok := so.Lookup(topic, o.Partition); !ok || o.Offset > s.Offset {
					ends[o.Partition] = o.Offset
				}
			})
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			// No topic yet: nothing to catch up with. The reader picks the
			// topic up once it is created.
			c.log.Warn().Str("topic", topic).Msg("models topic does not exist (yet)")
			ends = map[int32]int64{}
			break
		}
		c.log.Warn().Err(err).Str("topic", topic).Msg("models topic: listing end offsets; retrying")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	c.checkCaught(ends)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			c.log.Warn().Err(err).Str("topic", t).Int32("partition", p).Msg("models topic fetch")
		})
		fs.EachRecord(func(r *kgo.Record) {
			src := "topic:" + string(r.Key)
			where := fmt.Sprintf("topic:%s/%d@%d", r.Topic, r.Partition, r.Offset)
			if len(r.Value) == 0 {
				c.Remove(src)
			} else if a, err := model.Decode(r.Value); err != nil {
				c.loadErr("topic", fmt.Errorf("models: %s: %w", where, err))
			} else if err := c.AddArtifact(src, a, where); err != nil {
				c.loadErr("topic", err)
			}
			if end, ok := ends[r.Partition]; ok && r.Offset+1 >= end {
				delete(ends, r.Partition)
			}
		})
		c.checkCaught(ends)
	}
}

func (c *Catalog[T]) checkCaught(ends map[int32]int64) {
	if len(ends) > 0 {
		return
	}
	c.mu.Lock()
	first := !c.caught
	c.caught = true
	c.mu.Unlock()
	if first {
		c.log.Info().Str("topic", c.cfg.Stream.Topics.Models).Msg("models topic read to its end")
	}
}

// RecordKey is the models-topic key of an artifact: its machine id, or
// "machine/sensor" for a sensor-specific model. Compaction keeps the last
// record per key.
func RecordKey(m *model.Meta) string {
	if m.Sensor == "" {
		return m.Machine
	}
	return m.Machine + "/" + m.Sensor
}

// Features adapts a catalog of feature configurations (bind:
// FeatureOf) to spectro's FeatureSource.
type Features struct{ *Catalog[feature.Config] }

// FeatureOf is the bind function of a Features catalog: the artifact's
// feature configuration.
func FeatureOf(a *model.Artifact) (feature.Config, error) { return a.Meta.Feature, nil }

// Feature returns the feature configuration of the current model of
// (machine, sensor).
func (f Features) Feature(machine, sensor string) (feature.Config, bool) {
	e, ok := f.Lookup(machine, sensor)
	if !ok {
		return feature.Config{}, false
	}
	return e.Value, true
}
