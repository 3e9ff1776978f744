package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"time"
)

// BandScore is one frequency band's share of an anomaly: the band index, its
// frequency range (Hz) and its score (same orientation and units as the
// event's score).
type BandScore struct {
	Band   int     `json:"band"`
	LowHz  float64 `json:"low_hz"`
	HighHz float64 `json:"high_hz"`
	Score  float64 `json:"score"`
}

// Event is an anomaly event on the anomalies topic: one decision window of
// one (machine, sensor) whose aggregated score crossed the model's threshold
// (and passed the persistence rule). Its JSON form is in docs/wire.md.
//
// Times are Unix ns; the JSON carries each both as ns and as RFC 3339 with
// nanoseconds in UTC (window_start, window_end) for people and tools.
type Event struct {
	EventID       string      // EventID(Machine, Sensor, WindowStartNs, ModelVersion)
	Machine       string      // machine id, non-empty
	Sensor        string      // sensor name
	WindowStartNs int64       // Unix ns of the decision window's start
	WindowEndNs   int64       // Unix ns of its end, >= WindowStartNs
	Score         float64     // aggregated anomaly score, higher is more anomalous
	Threshold     float64     // the model's learned threshold, finite and non-zero
	ScoreType     string      // score definition, e.g. "mse", "elbo", "log-evidence"
	ModelVersion  string      // version of the model that scored the window
	Severity      float64     // Severity(Score, Threshold): > 1 means above threshold
	Bands         []BandScore // top bands, most anomalous first, at most MaxBands
	FeatureHash   string      // optional: feature configuration hash of the patches
	Detector      string      // optional: detector instance (host, pod) that decided
	Patches       int         // optional: patches aggregated in the window
	Consecutive   int         // optional: consecutive windows over threshold (persistence)
	DetectedAtNs  int64       // optional: Unix ns at which the detector decided
}

// EventID returns the deterministic id of the event for (machine, sensor,
// window start, model version): the first 16 bytes of the SHA-256 of the four
// fields, each length-prefixed (strings) or as 8 little-endian bytes (the
// start), in lowercase hex (32 characters). A replay after a restart yields
// the same id, so consumers drop duplicates by it. It allocates.
func EventID(machine, sensor string, windowStartNs int64, modelVersion string) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range [...]string{machine, sensor} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.LittleEndian.PutUint64(n[:], uint64(windowStartNs))
	h.Write(n[:])
	binary.LittleEndian.PutUint64(n[:], uint64(len(modelVersion)))
	h.Write(n[:])
	h.Write([]byte(modelVersion))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Severity returns how far score is past threshold as a ratio:
// 1 + (score − threshold)/|threshold|. For a positive threshold this is
// score/threshold; for a negative one (e.g. a negated log-evidence) it still
// exceeds 1 exactly when score > threshold. It is ±Inf or NaN for a zero
// threshold, which Validate rejects.
func Severity(score, threshold float64) float64 {
	if threshold > 0 {
		return score / threshold
	}
	return 1 + (score-threshold)/math.Abs(threshold)
}

// Complete sets e.EventID from its fields and e.Severity = Severity(Score,
// Threshold). Call it after filling the other fields.
func (e *Event) Complete() {
	e.EventID = EventID(e.Machine, e.Sensor, e.WindowStartNs, e.ModelVersion)
	e.Severity = Severity(e.Score, e.Threshold)
}

// Validate checks e: a non-empty machine, strings within MaxStringLen, an
// ordered window, finite score and severity, a finite non-zero threshold,
// at most MaxBands finite bands and an EventID equal to EventID(...) of its
// fields. The error wraps ErrEvent, ErrMachine, ErrNonFinite or ErrEventID.
func (e *Event) Validate() error {
	if err := checkDecision(e.Machine, e.Sensor, e.ScoreType, e.ModelVersion, e.WindowStartNs, e.WindowEndNs, e.Score, e.Threshold, e.Severity); err != nil {
		return err
	}
	if len(e.FeatureHash) > MaxStringLen || len(e.Detector) > MaxStringLen {
		return errf(ErrEvent, "event: feature_hash or detector longer than %d bytes", MaxStringLen)
	}
	if len(e.Bands) > MaxBands {
		return errf(ErrEvent, "event: %d bands, max %d", len(e.Bands), MaxBands)
	}
	for i, b := range e.Bands {
		if !finite64(b.Score) || !finite64(b.LowHz) || !finite64(b.HighHz) || b.Band < 0 || b.HighHz < b.LowHz {
			return errf(ErrEvent, "event: band entry %d %+v", i, b)
		}
	}
	if e.Patches < 0 || e.Consecutive < 0 {
		return errf(ErrEvent, "event: negative patches or consecutive count")
	}
	if want := EventID(e.Machine, e.Sensor, e.WindowStartNs, e.ModelVersion); e.EventID != want {
		return errf(ErrEventID, "event: event_id %q, fields give %q", e.EventID, want)
	}
	return nil
}

func checkDecision(machine, sensor, scoreType, modelVersion string, start, end int64, score, threshold, severity float64) error {
	switch {
	case machine == "":
		return errf(ErrMachine, "event: empty machine id")
	case len(machine) > MaxStringLen || len(sensor) > MaxStringLen || len(scoreType) > MaxStringLen || len(modelVersion) > MaxStringLen:
		return errf(ErrString, "event: a string field is longer than %d bytes", MaxStringLen)
	case end < start:
		return errf(ErrEvent, "event: window ends (%d) before it starts (%d)", end, start)
	case !finite64(score) || !finite64(threshold) || !finite64(severity):
		return errf(ErrNonFinite, "event: score %v, threshold %v, severity %v", score, threshold, severity)
	case threshold == 0:
		return errf(ErrEvent, "event: threshold is 0 (severity undefined)")
	}
	return nil
}

type eventJSON struct {
	EventID       string      `json:"event_id"`
	Machine       string      `json:"machine"`
	Sensor        string      `json:"sensor"`
	WindowStart   string      `json:"window_start"`
	WindowEnd     string      `json:"window_end"`
	WindowStartNs int64       `json:"window_start_ns"`
	WindowEndNs   int64       `json:"window_end_ns"`
	Score         float64     `json:"score"`
	Threshold     float64     `json:"threshold"`
	ScoreType     string      `json:"score_type"`
	ModelVersion  string      `json:"model_version"`
	Severity      float64     `json:"severity"`
	Bands         []BandScore `json:"bands"`
	FeatureHash   string      `json:"feature_hash,omitempty"`
	Detector      string      `json:"detector,omitempty"`
	Patches       int         `json:"patches,omitempty"`
	Consecutive   int         `json:"consecutive,omitempty"`
	DetectedAt    string      `json:"detected_at,omitempty"`
	DetectedAtNs  int64       `json:"detected_at_ns,omitempty"`
}

// RFC3339 formats Unix ns as RFC 3339 with nanoseconds in UTC, the form of
// every time string in mhm's JSON.
func RFC3339(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// MarshalJSON encodes e as documented in docs/wire.md. It fails on NaN or
// ±Inf numbers. Bands is written as [] when empty.
func (e *Event) MarshalJSON() ([]byte, error) {
	j := eventJSON{
		EventID: e.EventID, Machine: e.Machine, Sensor: e.Sensor,
		WindowStart: RFC3339(e.WindowStartNs), WindowEnd: RFC3339(e.WindowEndNs),
		WindowStartNs: e.WindowStartNs, WindowEndNs: e.WindowEndNs,
		Score: e.Score, Threshold: e.Threshold, ScoreType: e.ScoreType,
		ModelVersion: e.ModelVersion, Severity: e.Severity, Bands: e.Bands,
		FeatureHash: e.FeatureHash, Detector: e.Detector, Patches: e.Patches,
		Consecutive: e.Consecutive, DetectedAtNs: e.DetectedAtNs,
	}
	if j.Bands == nil {
		j.Bands = []BandScore{}
	}
	if e.DetectedAtNs != 0 {
		j.DetectedAt = RFC3339(e.DetectedAtNs)
	}
	return json.Marshal(&j)
}

// UnmarshalJSON decodes e without validating it (DecodeEvent validates).
// When both forms of a time are present they must agree; a time given only
// as an RFC 3339 string is converted to ns.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return errf(ErrJSON, "event: %v", err)
	}
	start, err := nsOf(j.WindowStart, j.WindowStartNs, "window_start")
	if err != nil {
		return err
	}
	end, err := nsOf(j.WindowEnd, j.WindowEndNs, "window_end")
	if err != nil {
		return err
	}
	det, err := nsOf(j.DetectedAt, j.DetectedAtNs, "detected_at")
	if err != nil {
		return err
	}
	*e = Event{
		EventID: j.EventID, Machine: j.Machine, Sensor: j.Sensor,
		WindowStartNs: start, WindowEndNs: end,
		Score: j.Score, Threshold: j.Threshold, ScoreType: j.ScoreType,
		ModelVersion: j.ModelVersion, Severity: j.Severity, Bands: j.Bands,
		FeatureHash: j.FeatureHash, Detector: j.Detector, Patches: j.Patches,
		Consecutive: j.Consecutive, DetectedAtNs: det,
	}
	return nil
}

// nsOf reconciles a time given as RFC 3339 text s and/or as ns.
func nsOf(s string, ns int64, field string) (int64, error) {
	if s == "" {
		return ns, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, errf(ErrJSON, "%s: %v", field, err)
	}
	// UnixNano is undefined outside about 1678..2262; reject those.
	if t.Year() < 1678 || t.Year() > 2261 {
		return 0, errf(ErrJSON, "%s: %s is out of the int64 ns range", field, s)
	}
	tn := t.UnixNano()
	if ns != 0 && tn != ns {
		return 0, errf(ErrJSON, "%s %q disagrees with %s_ns %d", field, s, field, ns)
	}
	return tn, nil
}

// DecodeEvent decodes and validates one JSON event (see Event.Validate),
// rejecting trailing data after the object. It allocates.
func DecodeEvent(e *Event, b []byte) error {
	if err := decodeStrict(e, b, "event"); err != nil {
		return err
	}
	return e.Validate()
}

// AppendEvent validates e and appends its JSON form to dst.
func AppendEvent(dst []byte, e *Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return dst, err
	}
	b, err := e.MarshalJSON()
	if err != nil {
		return dst, errf(ErrNonFinite, "event: %v", err)
	}
	return append(dst, b...), nil
}

func decodeStrict(v any, b []byte, what string) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		if errors.Is(err, ErrJSON) {
			return err
		}
		return errf(ErrJSON, "%s: %v", what, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return errf(ErrJSON, "%s: data after the JSON object", what)
	}
	return nil
}

// Score is one decision for the optional scores topic: every window scored,
// anomalous or not, for dashboards and threshold tuning. JSON form in
// docs/wire.md.
type Score struct {
	Machine       string  `json:"machine"`
	Sensor        string  `json:"sensor"`
	WindowStartNs int64   `json:"window_start_ns"`
	WindowEndNs   int64   `json:"window_end_ns"`
	Score         float64 `json:"score"`
	Threshold     float64 `json:"threshold"`
	ScoreType     string  `json:"score_type"`
	ModelVersion  string  `json:"model_version"`
	Severity      float64 `json:"severity"`          // Severity(Score, Threshold)
	Anomalous     bool    `json:"anomalous"`         // the decision after persistence
	Patches       int     `json:"patches,omitempty"` // patches aggregated
	EventID       string  `json:"event_id,omitempty"`
}

// Validate checks s like Event.Validate (machine, strings, window order,
// finite numbers, non-zero threshold); when EventID is set it must match.
func (s *Score) Validate() error {
	if err := checkDecision(s.Machine, s.Sensor, s.ScoreType, s.ModelVersion, s.WindowStartNs, s.WindowEndNs, s.Score, s.Threshold, s.Severity); err != nil {
		return err
	}
	if s.Patches < 0 {
		return errf(ErrEvent, "score: negative patches")
	}
	if s.EventID != "" && s.EventID != EventID(s.Machine, s.Sensor, s.WindowStartNs, s.ModelVersion) {
		return errf(ErrEventID, "score: event_id does not match its fields")
	}
	return nil
}

// DecodeScore decodes and validates one JSON score record. It allocates.
func DecodeScore(s *Score, b []byte) error {
	*s = Score{}
	if err := decodeStrict(s, b, "score"); err != nil {
		return err
	}
	return s.Validate()
}

// AppendScore validates s and appends its JSON form to dst.
func AppendScore(dst []byte, s *Score) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return dst, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return dst, errf(ErrNonFinite, "score: %v", err)
	}
	return append(dst, b...), nil
}
