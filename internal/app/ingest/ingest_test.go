package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/streamtest"
	"github.com/mhmstream/mhm/pkg/signal"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/wire"
)

func broker(t *testing.T) (string, stream.Config) {
	t.Helper()
	return streamtest.Broker(t, 2)
}

// readRaw reads n records of the raw topic.
func readRaw(t *testing.T, addr string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("mhm.raw"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n && ctx.Err() == nil {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	if len(out) != n {
		t.Fatalf("read %d raw records, want %d", len(out), n)
	}
	return out
}

func testFrame() *wire.RawFrame {
	return &wire.RawFrame{Machine: "pump-7", Sensor: "de", SampleRate: 16000, TimestampNs: 1_700_000_000_000_000_000,
		Seq: 9, Encoding: wire.Float32, Float32: []float32{0.25, -0.5, 1}}
}

type answer struct {
	code int
	a    Answer
	hdr  http.Header
}

func post(t *testing.T, url, ctype, token string, body []byte) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s: body is not JSON: %v", resp.Status, err)
	}
	return answer{resp.StatusCode, a, resp.Header}
}

// TestServe runs the service against the embedded broker over TCP and checks
// each answer and what reached the raw topic.
func TestServe(t *testing.T) {
	addr, sc := broker(t)
	s, err := New(Config{Stream: sc, Token: "s3cret", MaxBody: 4096}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/v1/frames"

	f := testFrame()
	bin := wire.AppendRawFrame(nil, f)
	js, err := wire.AppendRawFrameJSON(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	nan := *f
	nan.Float32 = []float32{0, float32(math.NaN())}
	nanBin := wire.AppendRawFrame(nil, &nan)
	big := *f
	big.Float32 = make([]float32, 2000) // 8 kB > 4096
	bigBin := wire.AppendRawFrame(nil, &big)

	cases := []struct {
		name, ctype, token string
		body               []byte
		code               int
		reason             string
	}{
		{"binary", "application/octet-stream", "s3cret", bin, 202, ""},
		{"json", "application/json; charset=utf-8", "s3cret", js, 202, ""},
		{"no token", "application/octet-stream", "", bin, 401, "unauthorized"},
		{"wrong token", "application/octet-stream", "s3cre", bin, 401, "unauthorized"},
		{"bad magic", "application/octet-stream", "s3cret", append([]byte{'X'}, bin[1:]...), 400, "bad_magic"},
		{"truncated", "application/octet-stream", "s3cret", bin[:len(bin)-1], 400, "truncated"},
		{"nan", "application/octet-stream", "s3cret", nanBin, 400, "non_finite"},
		{"json typo", "application/json", "s3cret", []byte(`{"machine":"m","samplerate":1}`), 400, "bad_json"},
		{"too large", "application/octet-stream", "s3cret", bigBin, 413, "too_large"},
		{"media type", "text/plain", "s3cret", bin, 415, "unsupported_media_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := post(t, url, c.ctype, c.token, c.body)
			if got.code != c.code || got.a.Reason != c.reason {
				t.Fatalf("got %d %+v, want %d reason %q", got.code, got.a, c.code, c.reason)
			}
			if c.code == 202 && (got.a.Topic != "mhm.raw" || got.a.Offset == nil || got.a.Machine != "pump-7" || got.a.Seq != 9) {
				t.Fatalf("accepted answer %+v", got.a)
			}
			if c.code == 401 && got.hdr.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if c.code != 202 && got.a.Error == "" {
				t.Fatal("error answer without a message")
			}
		})
	}
	// A chunked body (no Content-Length) over the limit is cut off too.
	req, _ := http.NewRequest(http.MethodPost, url, struct{ *bytes.Reader }{bytes.NewReader(bigBin)})
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("chunked oversized body: %s", resp.Status)
	}
	// Method and path.
	req, _ = http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err = http.Post("http://"+ln.Addr().String()+"/v1/other", "application/octet-stream", bytes.NewReader(bin)); err != nil || resp.StatusCode != 404 {
		t.Fatalf("other path: %v %v", resp, err)
	}
	resp.Body.Close()

	// Exactly the two accepted frames reached the topic, keyed by machine,
	// both as the binary encoding.
	recs := readRaw(t, addr, 2)
	for _, r := range recs {
		if string(r.Key) != "pump-7" || !bytes.Equal(r.Value, bin) {
			t.Fatalf("record key %q value %x, want pump-7 %x", r.Key, r.Value, bin)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// failProducer refuses every record; hangProducer never answers (a broker
// that took the request and went away).
type failProducer struct{}

func (failProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	promise(r, errors.New("broker down"))
}

type hangProducer struct{}

func (hangProducer) Produce(context.Context, *kgo.Record, func(*kgo.Record, error)) {}

func TestServeUnavailable(t *testing.T) {
	for _, p := range []Producer{failProducer{}, hangProducer{}} {
		cfg := Config{Stream: stream.DefaultConfig(), ProduceTimeout: 100 * time.Millisecond}
		srv := httptest.NewServer(NewHandler(cfg, p, zerolog.Nop(), nil))
		start := time.Now()
		got := post(t, srv.URL, "application/octet-stream", "", wire.AppendRawFrame(nil, testFrame()))
		srv.Close()
		if got.code != 503 || got.a.Reason != "unavailable" || got.hdr.Get("Retry-After") == "" || time.Since(start) > 5*time.Second {
			t.Fatalf("%T: got %d %+v %v after %v", p, got.code, got.a, got.hdr, time.Since(start))
		}
	}
}

// memSink keeps copies of the frames it is sent.
type memSink struct{ frames []wire.RawFrame }

func (m *memSink) Send(_ context.Context, f *wire.RawFrame) error {
	c := *f
	c.Float32 = append([]float32(nil), f.Float32...)
	c.Int16 = append([]int16(nil), f.Int16...)
	m.frames = append(m.frames, c)
	return nil
}
func (m *memSink) Flush(context.Context) error { return nil }

// writeWAV writes mono 16-bit PCM.
func writeWAV(t *testing.T, path string, rate int, x []int16) {
	t.Helper()
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*len(x)))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, le, uint32(16))
	binary.Write(&b, le, uint16(1))
	binary.Write(&b, le, uint16(1))
	binary.Write(&b, le, uint32(rate))
	binary.Write(&b, le, uint32(2*rate))
	binary.Write(&b, le, uint16(2))
	binary.Write(&b, le, uint16(16))
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*len(x)))
	binary.Write(&b, le, x)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReplayFiles(t *testing.T) {
	dir := t.TempDir()
	x := make([]int16, 2500)
	for i := range x {
		x[i] = int16(i - 1250)
	}
	wav := filepath.Join(dir, "a.wav")
	writeWAV(t, wav, 1000, x) // 2.5 s at 1 kHz
	femto1, femto2 := "../../../testdata/signal/acc_00001.good.csv", "../../../testdata/signal/acc_00002.good.csv"
	const t0 = int64(1_000_000_000_000)

	t.Run("wav then femto", func(t *testing.T) {
		var sink memSink
		cfg := ReplayConfig{Machine: "m1", Sensor: "s", FrameMs: 1000, StartNs: t0, Seq: 5}
		sum, err := Replay(context.Background(), cfg, []string{wav, femto1, femto2}, &sink)
		if err != nil {
			t.Fatal(err)
		}
		// WAV: frames of 1000, 1000, 500 samples at t0, t0+1s, t0+2s.
		// FEMTO 1 follows at t0+2.5 s (one frame of 20 samples); FEMTO 2
		// keeps its own spacing from FEMTO 1 (their time-of-day starts).
		s1, _ := signal.Read(femto1, signal.Options{})
		s2, _ := signal.Read(femto2, signal.Options{})
		want := []struct {
			ts   int64
			n    int
			rate float64
		}{
			{t0, 1000, 1000}, {t0 + 1e9, 1000, 1000}, {t0 + 2e9, 500, 1000},
			{t0 + 2500e6, s1.Len(), 25600},
			{t0 + 2500e6 + (s2.StartNs - s1.StartNs), s2.Len(), 25600},
		}
		if len(sink.frames) != len(want) || sum.Frames != int64(len(want)) || sum.Files != 3 {
			t.Fatalf("%d frames (summary %+v), want %d", len(sink.frames), sum, len(want))
		}
		for i, w := range want {
			f := sink.frames[i]
			if f.TimestampNs != w.ts || f.Len() != w.n || f.SampleRate != w.rate || f.Seq != uint64(5+i) || f.Machine != "m1" || f.Sensor != "s" {
				t.Fatalf("frame %d: ts %d n %d rate %g seq %d, want ts %d n %d rate %g seq %d", i, f.TimestampNs, f.Len(), f.SampleRate, f.Seq, w.ts, w.n, w.rate, 5+i)
			}
		}
		// Samples are the reader's, unchanged (float32).
		for i := 0; i < 1000; i++ {
			if got, want := sink.frames[1].Float32[i], float32(x[1000+i])/32768; got != want {
				t.Fatalf("sample %d: %v, want %v", i, got, want)
			}
		}
		for i, v := range s2.Channel(0) {
			if sink.frames[4].Float32[i] != v {
				t.Fatalf("femto sample %d differs", i)
			}
		}
		if sum.NextSeq != 10 || sum.EndNs != want[4].ts+int64(math.Round(float64(s2.Len())/25600*1e9)) {
			t.Fatalf("summary %+v", sum)
		}
	})

	t.Run("time of day past midnight", func(t *testing.T) {
		var sink memSink
		cfg := ReplayConfig{Machine: "m1", FrameMs: 1000, StartNs: t0}
		if _, err := Replay(context.Background(), cfg, []string{femto2, femto1}, &sink); err != nil {
			t.Fatal(err)
		}
		s1, _ := signal.Read(femto1, signal.Options{})
		s2, _ := signal.Read(femto2, signal.Options{})
		if d := sink.frames[1].TimestampNs - t0; d != s1.StartNs-s2.StartNs+24*3600e9 {
			t.Fatalf("second file %d ns after the first, want the next day's time of day", d)
		}
	})

	t.Run("int16", func(t *testing.T) {
		var sink memSink
		cfg := ReplayConfig{Machine: "m1", FrameMs: 1000, StartNs: t0, Encoding: wire.Int16}
		if _, err := Replay(context.Background(), cfg, []string{wav}, &sink); err != nil {
			t.Fatal(err)
		}
		f := sink.frames[0]
		vals := f.AppendValues(nil)
		for i, v := range vals {
			if want := float32(x[i]) / 32768; math.Abs(float64(v-want)) > float64(f.Scale)/2*1.0001 {
				t.Fatalf("sample %d: %v, want %v within half a count (%v)", i, v, want, f.Scale)
			}
		}
	})

	bad := "../../../testdata/signal/nonnumeric.bad.csv"
	t.Run("bad file stops", func(t *testing.T) {
		var sink memSink
		_, err := Replay(context.Background(), ReplayConfig{Machine: "m", FrameMs: 1000, StartNs: t0}, []string{wav, bad, femto1}, &sink)
		if !errors.Is(err, ErrReplay) || !strings.Contains(err.Error(), "nonnumeric.bad.csv") || len(sink.frames) != 3 {
			t.Fatalf("err %v after %d frames", err, len(sink.frames))
		}
	})
	t.Run("bad file skipped", func(t *testing.T) {
		var sink memSink
		var progress bytes.Buffer
		sum, err := Replay(context.Background(), ReplayConfig{Machine: "m", FrameMs: 1000, StartNs: t0, SkipBad: true, Progress: &progress},
			[]string{wav, bad, femto1}, &sink)
		if !errors.Is(err, ErrReplay) || !strings.Contains(err.Error(), "nonnumeric.bad.csv") {
			t.Fatalf("err %v", err)
		}
		if len(sink.frames) != 4 || sink.frames[3].TimestampNs != t0+2500e6 || sum.Files != 2 || len(sum.Skipped) != 1 {
			t.Fatalf("%d frames, summary %+v", len(sink.frames), sum)
		}
		if !strings.Contains(progress.String(), "skipped 1 bad file") {
			t.Fatalf("summary line: %q", progress.String())
		}
	})
	t.Run("missing channel", func(t *testing.T) {
		_, err := Replay(context.Background(), ReplayConfig{Machine: "m", Channel: 1, StartNs: t0}, []string{wav}, &memSink{})
		if err == nil || !strings.Contains(err.Error(), "a.wav: no channel 1") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("paced", func(t *testing.T) {
		start := time.Now()
		// 2.5 s of signal at 10x: the last frame is due 0.25 s after start.
		if _, err := Replay(context.Background(), ReplayConfig{Machine: "m", FrameMs: 500, Speed: 10, StartNs: t0}, []string{wav}, &memSink{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 240*time.Millisecond || d > 5*time.Second {
			t.Fatalf("paced replay took %v, want about 250 ms", d)
		}
	})
}

// TestReplayKafka sends a replay through KafkaSink and through an ingest
// server (HTTPSink) and checks both arrive identically.
func TestReplayKafka(t *testing.T) {
	addr, sc := broker(t)
	dir := t.TempDir()
	x := make([]int16, 1600)
	for i := range x {
		x[i] = int16(100 * math.Sin(float64(i)/10))
	}
	wav := filepath.Join(dir, "b.wav")
	writeWAV(t, wav, 16000, x)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cfg := ReplayConfig{Machine: "m2", Sensor: "x", FrameMs: 25, StartNs: 42}
	ks := &KafkaSink{Client: cl, Topic: "mhm.raw"}
	if _, err := Replay(context.Background(), cfg, []string{wav}, ks); err != nil {
		t.Fatal(err)
	}
	if ks.Acked() != 4 {
		t.Fatalf("acked %d", ks.Acked())
	}

	s, err := New(Config{Stream: sc}, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx, ln)
	cfg.Seq = 4
	if _, err := Replay(context.Background(), cfg, []string{wav}, &HTTPSink{URL: "http://" + ln.Addr().String() + "/v1/frames"}); err != nil {
		t.Fatal(err)
	}
	recs := readRaw(t, addr, 8)
	var f wire.RawFrame
	seen := map[uint64]int64{}
	for _, r := range recs {
		if err := wire.DecodeRawFrame(&f, r.Value); err != nil {
			t.Fatal(err)
		}
		seen[f.Seq] = f.TimestampNs
	}
	for seq := uint64(0); seq < 8; seq++ {
		if ts, ok := seen[seq]; !ok || ts != 42+int64(seq%4)*25e6 {
			t.Fatalf("seq %d: ts %d (present %v)", seq, ts, ok)
		}
	}
}

func TestEncodeVerb(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "frames")
	var so, se bytes.Buffer
	code := Program().Main(context.Background(), []string{"encode", "--machine", "m3", "--frame-ms", "0.5", "--start", "1000", "--out", out, "../../../testdata/signal/acc_00001.good.csv"}, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.bin"))
	if len(files) != 2 { // 20 samples, 13 per frame
		t.Fatalf("%d files: %v (%s)", len(files), files, so.String())
	}
	b, _ := os.ReadFile(files[1])
	var f wire.RawFrame
	if err := wire.DecodeRawFrame(&f, b); err != nil || f.Seq != 1 || f.Machine != "m3" || f.TimestampNs != 1000+int64(math.Round(13/25600.0*1e9)) {
		t.Fatalf("%v %+v", err, f)
	}
	if code := Program().Main(context.Background(), []string{"replay", "--machine", "m", "--speed", "fast", "x.wav"}, &so, &se); code != 2 {
		t.Fatalf("bad --speed: exit %d", code)
	}
	if code := Program().Main(context.Background(), []string{"replay", "x.wav"}, &so, &se); code != 2 {
		t.Fatalf("no --machine: exit %d", code)
	}
}
