package wire

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// seeds returns the seed inputs for each fuzz target: valid records of each
// kind plus a few corrupt ones. TestFuzzCorpus keeps testdata/fuzz in step.
func seeds() map[string][][]byte {
	i16 := AppendRawFrame(nil, sampleFrame(Int16, 5))
	f32 := AppendRawFrame(nil, sampleFrame(Float32, 3))
	p := AppendPatch(nil, samplePatch(2, 3))
	ev, _ := AppendEvent(nil, sampleEvent())
	bare := &Event{Machine: "m", WindowStartNs: 5, WindowEndNs: 5, Score: 1, Threshold: 1}
	bare.Complete()
	ev2, _ := AppendEvent(nil, bare)
	sc, _ := AppendScore(nil, &Score{Machine: "m", WindowStartNs: 1, WindowEndNs: 2, Score: 0.5, Threshold: 1, Severity: 0.5})
	return map[string][][]byte{
		"FuzzRawFrame": {i16, f32, i16[:20], append(bytes.Clone(f32), 0), {'R', 1, 2, 0}},
		"FuzzRawFrameJSON": {
			[]byte(`{"machine":"m","sensor":"s","sample_rate":16000,"timestamp_ns":1,"seq":2,"samples":[0.5,-1]}`),
			[]byte(`{"machine":"m","sample_rate":8000,"timestamp_ns":"17","encoding":"int16","scale":0.5,"samples_b64":"AQD+/w=="}`),
			[]byte(`{"machine":"","samples":[]}`),
		},
		"FuzzPatch": {p, p[:30], append(bytes.Clone(p), 9)},
		"FuzzEvent": {ev, ev2, sc, []byte(`{"event_id":"x"}`)},
	}
}

func TestFuzzCorpus(t *testing.T) {
	for target, inputs := range seeds() {
		dir := filepath.Join("testdata", "fuzz", target)
		for i, in := range inputs {
			name := filepath.Join(dir, fmt.Sprintf("seed-%d", i))
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(name)
			if err != nil || string(got) != want {
				t.Errorf("%s is missing or stale: run go test ./pkg/wire -run TestFuzzCorpus -update", name)
			}
		}
	}
}

// FuzzRawFrame: any input either fails to decode with an error or decodes
// to a valid frame whose re-encoding is byte-identical to the input (the
// format has exactly one encoding per frame), and decoding into a reused,
// dirty value gives the same frame.
func FuzzRawFrame(f *testing.F) {
	for _, s := range seeds()["FuzzRawFrame"] {
		f.Add(s)
	}
	reused := sampleFrame(Int16, 64)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr RawFrame
		if err := DecodeRawFrame(&fr, b); err != nil {
			if Reason(err) == "" {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if err := fr.Validate(); err != nil {
			t.Fatalf("decoded frame does not validate: %v", err)
		}
		if out := AppendRawFrame(nil, &fr); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in % x\nout % x", b, out)
		}
		if err := DecodeRawFrame(reused, b); err != nil {
			t.Fatalf("decode into a reused value: %v", err)
		}
		if out := AppendRawFrame(nil, reused); !bytes.Equal(out, b) {
			t.Fatal("decode into a reused value gave a different frame")
		}
	})
}

// FuzzRawFrameJSON: a JSON frame that decodes re-encodes to JSON that
// decodes to the same binary frame.
func FuzzRawFrameJSON(f *testing.F) {
	for _, s := range seeds()["FuzzRawFrameJSON"] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr RawFrame
		if err := DecodeRawFrameJSON(&fr, b); err != nil {
			if Reason(err) == "" {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		j, err := AppendRawFrameJSON(nil, &fr)
		if err != nil {
			t.Fatalf("valid frame does not encode: %v", err)
		}
		var g RawFrame
		if err := DecodeRawFrameJSON(&g, j); err != nil {
			t.Fatalf("re-decode: %v\n%s", err, j)
		}
		if !bytes.Equal(AppendRawFrame(nil, &fr), AppendRawFrame(nil, &g)) {
			t.Fatal("JSON round trip changed the frame")
		}
	})
}

// FuzzPatch: as FuzzRawFrame, for patches.
func FuzzPatch(f *testing.F) {
	for _, s := range seeds()["FuzzPatch"] {
		f.Add(s)
	}
	reused := samplePatch(4, 4)
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Patch
		if err := DecodePatch(&p, b); err != nil {
			if Reason(err) == "" {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if out := AppendPatch(nil, &p); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n in % x\nout % x", b, out)
		}
		if err := DecodePatch(reused, b); err != nil || !bytes.Equal(AppendPatch(nil, reused), b) {
			t.Fatalf("decode into a reused value: %v", err)
		}
	})
}

// FuzzEvent: an event (or score record) that decodes re-encodes to JSON
// that decodes to the same value and re-encodes to the same bytes.
func FuzzEvent(f *testing.F) {
	for _, s := range seeds()["FuzzEvent"] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if err := DecodeEvent(&e, b); err == nil {
			b2, err := AppendEvent(nil, &e)
			if err != nil {
				t.Fatalf("valid event does not encode: %v", err)
			}
			var e2 Event
			if err := DecodeEvent(&e2, b2); err != nil {
				t.Fatalf("re-decode: %v\n%s", err, b2)
			}
			if b3, _ := AppendEvent(nil, &e2); !bytes.Equal(b2, b3) {
				t.Fatalf("not a fixed point:\n%s\n%s", b2, b3)
			}
		} else if Reason(err) == "" {
			t.Fatalf("error without a sentinel: %v", err)
		}
		var s Score
		if err := DecodeScore(&s, b); err == nil {
			b2, err := AppendScore(nil, &s)
			if err != nil {
				t.Fatalf("valid score does not encode: %v", err)
			}
			var s2 Score
			if err := DecodeScore(&s2, b2); err != nil || s2 != s {
				t.Fatalf("score round trip: %v\n%+v\n%+v", err, s, s2)
			}
		} else if Reason(err) == "" {
			t.Fatalf("error without a sentinel: %v", err)
		}
	})
}
