// Command stream is the end-to-end benchmark of the stream workers
// (make bench-stream): simulated 16 kHz sensors through spectro and detect
// (and, for latency, ingest's HTTP API) on an embedded Kafka-protocol broker,
// with the DCASE 2020 front end and autoencoder, against the Python stream
// worker of ../shared/bench/py_pipeline.py on the same broker in the same
// run.
//
//	go run ./bench/stream [-sensors 100] [-seconds 30] [-latency-seconds 20] [-py ../shared/bench/py_pipeline.py]
//
// Phases, in this order so that each gets the machine to itself:
//
//  1. throughput (Go): SENSORS × SECONDS of audio in 0.5 s float32 frames
//     (py_pipeline.py's layout) are produced to the raw topic first; then
//     spectro and detect start and the clock runs from the first raw frame
//     consumed to the last patch scored and the last window's score record
//     acknowledged: sensor-seconds per wall second, and per CPU second of
//     this process (broker included).
//  2. throughput (Python): py_pipeline.py on the same broker and workload.
//  3. throughput (Go) again, to see the noise of a shared machine.
//  4. latency: SENSORS gateways post frames of GATEWAY-MS (0.1 s) in real time to ingest's
//     HTTP API for LATENCY-SECONDS; per window score record, the time from
//     the raw frame's produce (the record timestamp spectro and detect carry
//     along) to its arrival at a consumer, and from the window's end.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mhmstream/mhm/internal/app/detect"
	"github.com/mhmstream/mhm/internal/app/ingest"
	"github.com/mhmstream/mhm/internal/app/spectro"
	"github.com/mhmstream/mhm/internal/cputime"
	"github.com/mhmstream/mhm/internal/pipeline"
	"github.com/mhmstream/mhm/pkg/feature"
	"github.com/mhmstream/mhm/pkg/sim"
	"github.com/mhmstream/mhm/pkg/stream"
	"github.com/mhmstream/mhm/pkg/wire"
)

type options struct {
	sensors, partitions, concurrency int
	seconds, latencySeconds          float64
	py, pyScript                     string
	jsonOut, cpuProfile, compression string
	batch                            int
	gatewayMs                        float64
	linger                           time.Duration
	batchSpan                        time.Duration
	skipPython                       bool
	goRounds                         int
}

func main() {
	var o options
	flag.IntVar(&o.sensors, "sensors", 100, "simulated 16 kHz sensors")
	flag.Float64Var(&o.seconds, "seconds", 30, "seconds of audio per sensor in the throughput phases")
	flag.Float64Var(&o.latencySeconds, "latency-seconds", 20, "length of the real-time latency phase (0: skip)")
	flag.IntVar(&o.partitions, "partitions", 6, "partitions per topic")
	flag.IntVar(&o.concurrency, "concurrency", 2, "handler goroutines of spectro and of detect")
	flag.StringVar(&o.py, "python", "/usr/bin/python3", "Python with numpy, torch and confluent_kafka")
	flag.StringVar(&o.pyScript, "py-script", "", "py_pipeline.py (default: ../shared/bench/py_pipeline.py or /work/shared/bench/py_pipeline.py)")
	flag.BoolVar(&o.skipPython, "no-python", false, "skip the Python phase")
	flag.IntVar(&o.goRounds, "go-rounds", 2, "Go throughput rounds (the first before Python, the others after)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of each Go throughput round to FILE.N")
	flag.StringVar(&o.compression, "compression", "snappy", "batch compression of every producer: snappy (kgo's default) or none")
	flag.IntVar(&o.batch, "batch", 32, "detect's -batch")
	flag.DurationVar(&o.batchSpan, "batch-span", 250*time.Millisecond, "detect's -batch-span")
	flag.Float64Var(&o.gatewayMs, "gateway-ms", 100, "length of the gateways' frames in the latency phase, ms")
	flag.DurationVar(&o.linger, "linger", stream.DefaultConfig().Linger, "producer linger of every stage (the workers' -linger)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-stream:", err)
		os.Exit(1)
	}
}

// Results is what the benchmark prints and writes.
type Results struct {
	Sensors       int          `json:"sensors"`
	Seconds       float64      `json:"seconds"`
	Partitions    int          `json:"partitions"`
	Concurrency   int          `json:"concurrency"`
	Go            []Throughput `json:"go"`
	Python        *PyResult    `json:"python,omitempty"`
	Ratio         float64      `json:"ratio_go_over_python,omitempty"` // median Go / Python, sensor-s per wall s
	Latency       *Latency     `json:"latency,omitempty"`
	LoadAvgBefore string       `json:"loadavg_before"`
	LoadAvgAfter  string       `json:"loadavg_after"`
}

// Throughput is one Go backlog run.
type Throughput struct {
	Frames          int     `json:"frames"`
	Patches         int     `json:"patches"`
	Windows         int     `json:"windows"`
	WallS           float64 `json:"wall_s"`
	CPUS            float64 `json:"cpu_s"`
	SensorSPerWallS float64 `json:"sensor_s_per_wall_s"`
	SensorSPerCPUS  float64 `json:"sensor_s_per_cpu_s"`
	IdlePct         float64 `json:"machine_idle_pct"` // share of all cores idle during the run (other load shows here)
}

// PyResult is py_pipeline.py's JSON line.
type PyResult struct {
	Frames          int     `json:"frames"`
	SensorSeconds   float64 `json:"sensor_seconds"`
	WallS           float64 `json:"wall_s"`
	CPUS            float64 `json:"cpu_s"`
	SensorSPerWallS float64 `json:"sensor_s_per_wall_s"`
	SensorSPerCPUS  float64 `json:"sensor_s_per_cpu_s"`
}

// Latency of the real-time phase, milliseconds.
type Latency struct {
	Windows     int     `json:"windows"`
	FrameP50    float64 `json:"frame_to_score_p50_ms"` // from the produce of the frame that closed the window
	FrameP99    float64 `json:"frame_to_score_p99_ms"`
	FrameMax    float64 `json:"frame_to_score_max_ms"`
	EndP50      float64 `json:"window_end_to_score_p50_ms"` // from the window's end (sample time = wall time)
	EndP99      float64 `json:"window_end_to_score_p99_ms"`
	WindowMs    float64 `json:"window_ms"`
	IngestP50   float64 `json:"ingest_request_p50_ms"`
	IngestP99   float64 `json:"ingest_request_p99_ms"`
	Requests    int     `json:"requests"`
	RequestErrs int     `json:"request_errors"`
	CPUShare    float64 `json:"cpu_cores_used"`   // this process (pipeline, broker, gateways)
	IdlePct     float64 `json:"machine_idle_pct"` // share of all cores idle during the phase
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

func run(ctx context.Context, o options) error {
	res := Results{Sensors: o.sensors, Seconds: o.seconds, Partitions: o.partitions, Concurrency: o.concurrency, LoadAvgBefore: loadavg()}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(o.partitions))
	if err != nil {
		return err
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	fmt.Printf("broker %s (kfake, in this process), %d sensors × %g s, %d partitions, concurrency %d; load %s\n",
		addr, o.sensors, o.seconds, o.partitions, o.concurrency, res.LoadAvgBefore)
	dir, err := os.MkdirTemp("", "bench-stream")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	art, err := dcaseModel(filepath.Join(dir, "models"), o.sensors)
	if err != nil {
		return err
	}
	fmt.Printf("model: untrained DCASE 2020 autoencoder (as py_pipeline.py), %s per machine, 1 s windows\n", art)

	signals := simulate(o.sensors, o.seconds)
	for round := 0; round < o.goRounds; round++ {
		if round == 1 && !o.skipPython {
			py, err := runPython(ctx, o, addr)
			if err != nil {
				return err
			}
			res.Python = py
			fmt.Printf("python: %d frames in %.2f s wall, %.2f s CPU: %.1f sensor-s per wall s, %.1f per CPU s\n",
				py.Frames, py.WallS, py.CPUS, py.SensorSPerWallS, py.SensorSPerCPUS)
		}
		tp, err := throughput(ctx, o, addr, dir, signals, round)
		if err != nil {
			return err
		}
		res.Go = append(res.Go, tp)
		fmt.Printf("go #%d: %d frames, %d patches, %d windows in %.2f s wall, %.2f s CPU (machine %.0f%% idle): %.1f sensor-s per wall s, %.1f per CPU s\n",
			round+1, tp.Frames, tp.Patches, tp.Windows, tp.WallS, tp.CPUS, tp.IdlePct, tp.SensorSPerWallS, tp.SensorSPerCPUS)
	}
	if o.goRounds == 1 && !o.skipPython {
		py, err := runPython(ctx, o, addr)
		if err != nil {
			return err
		}
		res.Python = py
	}
	if res.Python != nil && len(res.Go) > 0 {
		var r []float64
		for _, g := range res.Go {
			r = append(r, g.SensorSPerWallS)
		}
		sort.Float64s(r)
		res.Ratio = r[len(r)/2] / res.Python.SensorSPerWallS
		if len(r)%2 == 0 {
			res.Ratio = (r[len(r)/2-1] + r[len(r)/2]) / 2 / res.Python.SensorSPerWallS
		}
		fmt.Printf("ratio Go / Python (sensor-s per wall s, median of the Go rounds): %.2f\n", res.Ratio)
	}
	if o.latencySeconds > 0 {
		lat, err := latency(ctx, o, addr, dir)
		if err != nil {
			return err
		}
		res.Latency = lat
		fmt.Printf("latency over %d windows (1 s): frame produce → score p50 %.1f ms, p99 %.1f ms, max %.1f ms; window end → score p50 %.1f ms, p99 %.1f ms; ingest request p50 %.1f ms, p99 %.1f ms (%d requests, %d errors); %.2f cores used, machine %.0f%% idle\n",
			lat.Windows, lat.FrameP50, lat.FrameP99, lat.FrameMax, lat.EndP50, lat.EndP99, lat.IngestP50, lat.IngestP99, lat.Requests, lat.RequestErrs, lat.CPUShare, lat.IdlePct)
	}
	res.LoadAvgAfter = loadavg()
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// simulate returns seconds of 16 kHz audio for each sensor: fans, pumps and
// gearboxes of pkg/sim, healthy, each with its own seed.
func simulate(n int, seconds float64) [][]float32 {
	kinds := []sim.Kind{sim.Fan, sim.Pump, sim.Gearbox}
	out := make([][]float32, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := sim.New(sim.Preset(kinds[i%len(kinds)]), uint64(i+1))
			if err != nil {
				panic(err)
			}
			x := make([]float32, int(seconds*16000))
			m.Read(x)
			out[i] = x
		}()
	}
	wg.Wait()
	return out
}

func machineID(i int) string { return fmt.Sprintf("sensor-%03d", i) }

// topicsFor gives each phase its own topics, so runs do not see each
// other's records.
func topicsFor(phase string) stream.Topics {
	return stream.Topics{Raw: phase + ".raw", Patches: phase + ".patches", Anomalies: phase + ".anomalies",
		Scores: phase + ".scores", DLQ: phase + ".dlq", Models: phase + ".models"}
}

func streamConfig(o options, addr, phase string) (stream.Config, error) {
	sc := stream.DefaultConfig()
	sc.Brokers = []string{addr}
	sc.Topics = topicsFor(phase)
	sc.HTTPAddr = ""
	sc.Concurrency = o.concurrency
	sc.CommitInterval = time.Second
	sc.MaxInFlight = 4000
	sc.Linger = o.linger
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return sc, err
	}
	defer cl.Close()
	_, err = stream.EnsureTopics(context.Background(), kadm.NewClient(cl), stream.TopicSpecs(sc.Topics, int32(o.partitions), 1)...)
	return sc, err
}

func stages(o options, sc stream.Config, dir string, withIngest bool, ln net.Listener) (*pipeline.Stages, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	opts := producerOpts(o)
	cfg := pipeline.Config{Stream: sc,
		Spectro: spectro.Config{Default: func(float64) (feature.Config, error) { return feature.DCASE2020(), nil }, ModelsDir: filepath.Join(dir, "models"), KgoOpts: opts},
		// The idle flush is off: the rounds count the windows that patches
		// close, and a flushed last window would count in their place.
		Detect: detect.Config{ModelsDir: filepath.Join(dir, "models"), Detector: "bench", Batch: o.batch, BatchSpan: o.batchSpan,
			FlushAfter: -1, KgoOpts: opts},
	}
	if withIngest {
		cfg.Ingest, cfg.IngestListener = &ingest.Config{MaxBody: 1 << 20, KgoOpts: opts}, ln
	}
	s, err := pipeline.New(cfg, zerolog.Nop(), reg)
	return s, reg, err
}

func producerOpts(o options) []kgo.Opt {
	if o.compression == "snappy" {
		return []kgo.Opt{kgo.ProducerBatchCompression(kgo.SnappyCompression())}
	}
	return []kgo.Opt{kgo.ProducerBatchCompression(kgo.NoCompression())}
}

// metric sums the series of a metric on reg whose labels include all of
// want (name=value pairs).
func metric(reg *prometheus.Registry, name string, want ...string) float64 {
	mfs, _ := reg.Gather()
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(want); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == want[i] && l.GetValue() == want[i+1]
				}
				if !found {
					continue series
				}
			}
			if m.GetCounter() != nil {
				v += m.GetCounter().GetValue()
			} else if m.GetGauge() != nil {
				v += m.GetGauge().GetValue()
			}
		}
	}
	return v
}

// expected counts the patches and closed 1 s windows a sensor's stream
// gives (the stream's patches, without the end-of-recording flush).
func expected(samples int, t0 int64) (patches, windows int) {
	e, err := feature.NewExtractor(feature.DCASE2020(), "m", "", t0)
	if err != nil {
		panic(err)
	}
	var last int64
	e.Write(make([]float32, samples), func(p *patchT) { patches++; last = p.StartNs })
	return patches, int((last - t0) / 1e9) // windows before the last patch's window close
}

// clkTck is the kernel's USER_HZ, the unit of /proc/stat.
const clkTck = 100

// idleJiffies returns the machine's idle time (all cores) from /proc/stat.
func idleJiffies() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	if len(f) < 5 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[4], 64)
	return v
}

// cpuSeconds returns the process's CPU time (user + system, all threads).
func cpuSeconds() float64 {
	d, _ := cputime.Process()
	return d.Seconds()
}

// throughput: the backlog of frames is produced first; the clock runs
// while spectro and detect work through it.
func throughput(ctx context.Context, o options, addr, dir string, signals [][]float32, round int) (Throughput, error) {
	var tp Throughput
	phase := fmt.Sprintf("tp%d", round)
	sc, err := streamConfig(o, addr, phase)
	if err != nil {
		return tp, err
	}
	cl, err := kgo.NewClient(append(producerOpts(o), kgo.SeedBrokers(addr), kgo.MaxBufferedRecords(1<<16))...)
	if err != nil {
		return tp, err
	}
	const frame = 8000 // 0.5 s, as py_pipeline.py
	t0 := time.Now().Truncate(time.Second).UnixNano()
	var recs []*kgo.Record
	n := len(signals[0]) / frame
	for f := 0; f < n; f++ {
		for s, x := range signals {
			fr := wire.RawFrame{Machine: machineID(s), SampleRate: 16000, TimestampNs: t0 + int64(f)*5e8, Seq: uint64(f),
				Encoding: wire.Float32, Float32: x[f*frame : (f+1)*frame]}
			recs = append(recs, &kgo.Record{Topic: sc.Topics.Raw, Key: []byte(fr.Machine), Value: wire.AppendRawFrame(nil, &fr)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		cl.Close()
		return tp, err
	}
	cl.Close()
	tp.Frames = len(recs)
	recs = nil
	pp, pw := expected(n*frame, t0)
	tp.Patches, tp.Windows = pp*len(signals), pw*len(signals)

	s, reg, err := stages(o, sc, dir, false, nil)
	if err != nil {
		return tp, err
	}
	// detect joins its group first, so that the clock (which starts with
	// spectro's first record) does not include a group join.
	rctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	var runErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); runErr = s.Detect.Run(rctx) }()
	for metric(reg, "mhm_stream_assigned_partitions", "stage", "detect") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	go func() { defer wg.Done(); runErr = errors.Join(runErr, s.Spectro.Run(rctx)) }()
	go func() { wg.Wait(); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	if o.cpuProfile != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", o.cpuProfile, round))
		if err != nil {
			return tp, err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	var start time.Time
	var cpu0, idle0 float64
	deadline := time.Now().Add(10 * time.Minute)
	for {
		select {
		case <-stopped:
			return tp, fmt.Errorf("throughput: the stages stopped: %v", runErr)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return tp, fmt.Errorf("throughput: stuck at %v patches taken of %d, %v windows of %d", metric(reg, "mhm_stream_records_in_total", "stage", "detect"), tp.Patches,
				metric(reg, "mhm_stream_records_out_total", "stage", "detect", "topic", sc.Topics.Scores), tp.Windows)
		}
		if start.IsZero() && metric(reg, "mhm_stream_records_in_total", "stage", "spectro") > 0 {
			start, cpu0, idle0 = time.Now(), cpuSeconds(), idleJiffies()
		}
		// Done when detect has taken every patch and decided every window
		// that can close (the last window of each stream stays open: its
		// patches wait for the next one).
		if metric(reg, "mhm_stream_records_in_total", "stage", "detect") >= float64(tp.Patches) &&
			metric(reg, "mhm_stream_records_out_total", "stage", "detect", "topic", sc.Topics.Scores) >= float64(tp.Windows) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	tp.WallS = time.Since(start).Seconds()
	tp.CPUS = cpuSeconds() - cpu0
	tp.IdlePct = 100 * (idleJiffies() - idle0) / (tp.WallS * clkTck * float64(runtime.NumCPU()))
	// Sensor-seconds: the decided windows only (conservative: the time
	// includes transforming the open last second of every stream).
	ss := float64(tp.Windows)
	tp.SensorSPerWallS = ss / tp.WallS
	tp.SensorSPerCPUS = ss / tp.CPUS
	if d := metric(reg, "mhm_stream_dlq_total"); d > 0 {
		return tp, fmt.Errorf("throughput: %v records dead-lettered", d)
	}
	return tp, nil
}

func runPython(ctx context.Context, o options, addr string) (*PyResult, error) {
	script := o.pyScript
	if script == "" {
		for _, p := range []string{"../shared/bench/py_pipeline.py", "/work/shared/bench/py_pipeline.py"} {
			if _, err := os.Stat(p); err == nil {
				script = p
				break
			}
		}
	}
	if script == "" {
		return nil, fmt.Errorf("py_pipeline.py not found: give -py-script or -no-python")
	}
	cmd := exec.CommandContext(ctx, o.py, script, addr, "--sensors", fmt.Sprint(o.sensors), "--seconds", fmt.Sprint(o.seconds))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	fmt.Printf("python: %s\n", strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r PyResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("python output %q: %w", out.String(), err)
	}
	return &r, nil
}

// latency: gateways post frames in real time to ingest; a consumer
// times the score records.
func latency(ctx context.Context, o options, addr, dir string) (*Latency, error) {
	sc, err := streamConfig(o, addr, "lat")
	if err != nil {
		return nil, err
	}
	sc.CommitInterval = time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s, _, err := stages(o, sc, dir, true, ln)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	defer func() { cancel(); <-done }()
	for s.Ready(ctx) != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	signals := simulate(o.sensors, o.latencySeconds)

	// The consumer of the score records.
	rd, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(sc.Topics.Scores), kgo.FetchMaxWait(20*time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var mu sync.Mutex
	var frameLat, endLat []float64
	start := time.Now().Truncate(time.Second).Add(time.Second)
	go func() {
		for rctx.Err() == nil {
			fs := rd.PollFetches(rctx)
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				var sr wire.Score
				if json.Unmarshal(r.Value, &sr) != nil || sr.WindowStartNs < start.Add(2*time.Second).UnixNano() {
					return // the first windows include the group joins
				}
				mu.Lock()
				frameLat = append(frameLat, float64(now.Sub(r.Timestamp))/1e6)
				endLat = append(endLat, float64(now.UnixNano()-sr.WindowEndNs)/1e6)
				mu.Unlock()
			})
		}
	}()

	// The gateways.
	url := "http://" + ln.Addr().String() + "/v1/frames"
	tr := &http.Transport{MaxIdleConnsPerHost: o.sensors + 10}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	frame := int(o.gatewayMs * 16) // samples per frame at 16 kHz
	period := time.Duration(o.gatewayMs * float64(time.Millisecond))
	var reqLat []float64
	var reqErr int
	var gw sync.WaitGroup
	for i, x := range signals {
		gw.Add(1)
		go func() {
			defer gw.Done()
			var buf []byte
			var lat []float64
			errs := 0
			// Gateways are not synchronised: each cuts its frames at its
			// own phase within the 100 ms period and sends a frame as soon
			// as its last sample is taken (sample time is wall time).
			phase := time.Duration(i) * period / time.Duration(len(signals))
			for f := 0; (f+1)*frame <= len(x); f++ {
				due := start.Add(time.Duration(f+1)*period + phase)
				time.Sleep(time.Until(due))
				if rctx.Err() != nil {
					return
				}
				fr := wire.RawFrame{Machine: machineID(i), SampleRate: 16000, TimestampNs: start.UnixNano() + int64(phase) + int64(f)*int64(period), Seq: uint64(f),
					Encoding: wire.Float32, Float32: x[f*frame : (f+1)*frame]}
				buf = wire.AppendRawFrame(buf[:0], &fr)
				t := time.Now()
				resp, err := hc.Post(url, "application/octet-stream", bytes.NewReader(buf))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("%s", resp.Status)
					}
				}
				if err != nil {
					errs++
					continue
				}
				lat = append(lat, float64(time.Since(t))/1e6)
			}
			mu.Lock()
			reqLat = append(reqLat, lat...)
			reqErr += errs
			mu.Unlock()
		}()
	}
	cpu0, idle0, t0 := cpuSeconds(), idleJiffies(), time.Now()
	gw.Wait()
	time.Sleep(1500 * time.Millisecond) // the last closed windows
	wall := time.Since(t0).Seconds()
	cpu, idle := cpuSeconds()-cpu0, 100*(idleJiffies()-idle0)/(wall*clkTck*float64(runtime.NumCPU()))
	mu.Lock()
	defer mu.Unlock()
	if len(frameLat) == 0 {
		return nil, fmt.Errorf("latency: no score record arrived")
	}
	return &Latency{Windows: len(frameLat), WindowMs: 1000,
		FrameP50: quantile(frameLat, .5), FrameP99: quantile(frameLat, .99), FrameMax: quantile(frameLat, 1),
		EndP50: quantile(endLat, .5), EndP99: quantile(endLat, .99),
		IngestP50: quantile(reqLat, .5), IngestP99: quantile(reqLat, .99), Requests: len(reqLat), RequestErrs: reqErr,
		CPUShare: cpu / wall, IdlePct: idle}, nil
}

func quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
