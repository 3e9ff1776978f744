package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mhmstream/mhm/internal/app/train"
	"github.com/mhmstream/mhm/internal/realdata"
)

// syncBuffer collects the demo's output from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestFleetDemo runs a shortened demo through the code path of `mhm demo`
// (Run: train fit on WAV files, embedded broker, ingest + spectro + detect,
// collector, judge, report): four machines (a clear fault on a fan and on a
// gearbox, a healthy pump, a degrading bearing rig), two healthy minutes
// each, 100 s streamed. It asserts what issue 7 asks of `make demo`: every
// detectable fault detected, no false alarm, valid figures that index.html
// shows, and the files the report names.
func TestFleetDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := &syncBuffer{}
	dir := t.TempDir()
	opt := Options{Out: dir, Machines: 4, Healthy: 2 * time.Minute, Duration: 2*time.Minute + 100*time.Second, Epochs: 5, Stdout: out}
	machines := []string{"fan-01", "pump-02", "gearbox-03", "bearing-04"}
	detectable := 3
	if raceEnabled { // the same path, a smaller fleet: a fan with a fault, a healthy pump
		opt.Machines, opt.Healthy, opt.Duration, opt.Epochs = 2, time.Minute, time.Minute+100*time.Second, 2
		machines, detectable = machines[:2], 1
	}
	res, err := Run(ctx, opt)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	text := out.String()
	t.Logf("demo output:\n%s", text)

	if res.Detectable != detectable {
		t.Errorf("%d detectable faults, want %d", res.Detectable, detectable)
	}
	if !res.AllDetected() {
		t.Errorf("detected %d of %d detectable faults", res.Detected, res.Detectable)
	}
	if res.FalseAlarms != 0 {
		t.Errorf("%d false alarms", res.FalseAlarms)
	}
	for _, m := range res.Machines {
		switch {
		case m.Fault == "":
			if m.Alarms != 0 || m.Events != 0 {
				t.Errorf("healthy %s: %d alarms, %d events", m.Machine, m.Alarms, m.Events)
			}
		case m.Detectable && m.Detected:
			if m.Delay < 0 || (m.Visible >= 0 && m.Visible <= m.Start+10*time.Second && m.Delay > 10*time.Second) {
				t.Errorf("%s: %s detected %v after its onset", m.Machine, m.Fault, m.Delay)
			}
			if m.TopBand == "" {
				t.Errorf("%s: detection without a band", m.Machine)
			}
		}
	}
	// Every machine streamed 100 s, and every window the stream allows was
	// decided: 1 s windows, the last one stays open.
	n := len(machines)
	if want := float64(n) * 100; math.Abs(res.SensorSeconds-want) > 1e-6 {
		t.Errorf("%.3f sensor-seconds streamed, want %g", res.SensorSeconds, want)
	}
	if res.Windows != n*99 {
		t.Errorf("%d windows decided, want %d (99 per machine)", res.Windows, n*99)
	}
	if res.DLQ != 0 {
		t.Errorf("%g dead letters", res.DLQ)
	}
	for _, want := range []string{fmt.Sprintf("every detectable fault was detected (%d of %d)", detectable, detectable), "false alarms: none", "ALARM", "report:       " + filepath.Join(dir, "index.html")} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	checkReport(t, dir, res, machines)
}

// checkReport checks that the figures are PNG images of the documented
// sizes, that index.html shows each one, and that the JSON files hold what
// the result says.
func checkReport(t *testing.T, dir string, res *Result, machines []string) {
	t.Helper()
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string][2]int{"spectrogram": {figW, specH}, "zoom": {figW, specH}, "timeline": {figW, timeH}}
	seen := map[string]bool{}
	for _, f := range res.Figures {
		name := filepath.Base(f)
		kind := strings.TrimSuffix(name[strings.LastIndex(name, "-")+1:], ".png")
		want, ok := sizes[kind]
		if !ok {
			t.Errorf("unexpected figure %s", name)
			continue
		}
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(r)
		r.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != want[0] || b.Dy() != want[1] {
			t.Errorf("%s is %dx%d, want %dx%d", name, b.Dx(), b.Dy(), want[0], want[1])
		}
		if !bytes.Contains(html, []byte(`src="`+name+`"`)) {
			t.Errorf("index.html does not show %s", name)
		}
		seen[name] = true
	}
	for _, m := range machines {
		for _, k := range []string{"spectrogram", "timeline"} {
			if !seen[m+"-"+k+".png"] {
				t.Errorf("no %s figure for %s", k, m)
			}
		}
		if !bytes.Contains(html, []byte(`id="`+m+`"`)) {
			t.Errorf("index.html has no section for %s", m)
		}
	}
	for _, m := range res.Machines {
		if m.Events > 0 && !seen[m.Machine+"-zoom.png"] {
			t.Errorf("%s has events but no zoom figure", m.Machine)
		}
	}
	var sum Result
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Detected != res.Detected || sum.FalseAlarms != res.FalseAlarms || len(sum.Machines) != len(res.Machines) {
		t.Errorf("summary.json disagrees with the result: %+v", sum)
	}
	if n := countLines(t, filepath.Join(dir, "events.jsonl")); n != res.Events {
		t.Errorf("events.jsonl has %d lines, the result %d events", n, res.Events)
	}
	if n := countLines(t, filepath.Join(dir, "scores.jsonl")); n != res.Windows {
		t.Errorf("scores.jsonl has %d lines, the result %d windows", n, res.Windows)
	}
	if _, err := os.Stat(filepath.Join(dir, "work")); !os.IsNotExist(err) {
		t.Errorf("the work folder was not removed: %v", err)
	}
	models, _ := filepath.Glob(filepath.Join(dir, "models", "*.mhm"))
	if len(models) != len(machines) {
		t.Errorf("%d model artifacts, want %d", len(models), len(machines))
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// TestFEMTODemo replays FEMTO Bearing2_1 through the pipeline and checks
// the stream against `train timeline` on the same model and snapshots:
// every decided window's score is the offline score of its snapshot, and
// the first persistent alarm is the same snapshot. Skipped when
// ../shared/data is absent, and under -short.
func TestFEMTODemo(t *testing.T) {
	if raceEnabled {
		t.Skip("the FEMTO demo is tested without -race (TestFleetDemo covers the same concurrent code under it)")
	}
	data := realdata.Unpack(t, realdata.FEMTO)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := &syncBuffer{}
	dir := t.TempDir()
	res, err := Run(ctx, Options{Out: dir, Data: data, Epochs: 20, Stdout: out})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	t.Logf("demo output:\n%s", out)
	if len(res.Machines) != 1 {
		t.Fatalf("%d machines", len(res.Machines))
	}
	m := res.Machines[0]
	bearing := filepath.Join(data, "femto", "Learning_set", "Bearing2_1")
	snaps, _ := filepath.Glob(filepath.Join(bearing, "acc_*.csv"))
	if res.Windows != len(snaps)-1 {
		t.Errorf("%d windows decided, want one per snapshot but the last: %d", res.Windows, len(snaps)-1)
	}

	// The same model, offline.
	plots := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := train.TimelineVerb().Run(ctx, []string{"--model", filepath.Join(dir, "models", m.Machine+".mhm"), "--plots", plots, bearing}, &stdout, &stderr); err != nil {
		t.Fatalf("train timeline: %v\n%s", err, stderr.String())
	}
	var tl struct {
		Items []struct {
			Score   float64 `json:"score"`
			LifePct float64 `json:"life_pct"`
		} `json:"items"`
		Series []struct {
			MonitorFrom int     `json:"monitor_from"`
			FirstAlarm  int     `json:"first_alarm"`
			LifePct     float64 `json:"first_alarm_life_pct"`
		} `json:"series"`
	}
	b, err := os.ReadFile(filepath.Join(plots, "timeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.Items) != len(snaps) || len(tl.Series) == 0 {
		t.Fatalf("timeline: %d items, %d series", len(tl.Items), len(tl.Series))
	}
	var scores []float64
	f, err := os.Open(filepath.Join(dir, "scores.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(f)
	for dec.More() {
		var s struct {
			Start int64   `json:"window_start_ns"`
			Score float64 `json:"score"`
		}
		if err := dec.Decode(&s); err != nil {
			t.Fatal(err)
		}
		scores = append(scores, s.Score)
	}
	f.Close()
	worst := 0.0
	for i, s := range scores {
		want := tl.Items[i].Score
		worst = max(worst, math.Abs(s-want)/math.Abs(want))
	}
	t.Logf("%d stream window scores against train timeline: largest relative difference %.3g", len(scores), worst)
	if worst > 1e-5 {
		t.Errorf("stream scores differ from train timeline's by up to %.3g relative", worst)
	}
	se := tl.Series[0]
	if se.MonitorFrom != int(math.Round(0.2*float64(len(snaps)))) {
		t.Errorf("timeline monitors from item %d", se.MonitorFrom)
	}
	switch {
	case se.FirstAlarm < 0 && m.Detected:
		t.Errorf("the stream alarmed at %.1f%% of life, train timeline never", m.LifePct)
	case se.FirstAlarm >= 0 && !m.Detected:
		t.Errorf("train timeline alarmed at %.1f%% of life, the stream never", se.LifePct)
	case m.Detected && math.Abs(m.LifePct-se.LifePct) > 1e-9:
		t.Errorf("first alarm at %.3f%% of life in the stream, %.3f%% in train timeline", m.LifePct, se.LifePct)
	}
	if !strings.Contains(out.String(), "% of life") {
		t.Errorf("the summary does not say when the alarm came")
	}
	checkReport(t, dir, res, []string{m.Machine})
}
