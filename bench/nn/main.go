// Command nn measures pkg/nn on the DCASE 2020 baseline autoencoder against
// PyTorch in the same run and prints the table of docs/kernels.md: vectors
// per second of ours (one core and GOMAXPROCS=2) and of PyTorch (one and
// two threads), their ratio, GFLOP/s and the share of the machine's
// measured FMA peak, and the cost of the VAE's K = 16 log-evidence score
// in forward passes.
//
// Run from the module root (make bench-nn):
//
//	go run ./bench/nn [-rounds 3] [-seconds 1] [-python /usr/bin/python3]
//
// The machine this project runs on is shared, so every figure is measured
// in rounds that interleave ours and PyTorch's (PyTorch runs as a server
// process, pkg/nn/testdata/dcase_torch_bench.py --serve, one per thread
// count), and the table shows the median over the rounds. Rates are given
// per second of wall-clock time and per second of process CPU time: the
// first is what a user sees, the second discounts the time the process
// waited for a core that other jobs held.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mhmstream/mhm/internal/cputime"
	"github.com/mhmstream/mhm/pkg/nn"
	"github.com/mhmstream/mhm/pkg/vae"
)

// dcaseSizes are the layer widths of the DCASE 2020 baseline.
var dcaseSizes = []int{640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640}

// macs returns the multiply-adds of one vector's forward pass, and of the
// products of one training vector (forward, weight gradients and input
// gradients of every layer but the first, whose input needs none).
func macs() (fwd, train float64) {
	var first float64
	for i := 0; i+1 < len(dcaseSizes); i++ {
		m := float64(dcaseSizes[i] * dcaseSizes[i+1])
		fwd += m
		if i == 0 {
			first = m
		}
	}
	return fwd, 3*fwd - first
}

func dcaseNet(rng *rand.Rand) *nn.Sequential {
	var layers []nn.Layer
	for i := 0; i+1 < len(dcaseSizes); i++ {
		layers = append(layers, nn.NewDense(dcaseSizes[i], dcaseSizes[i+1], rng))
		if i+2 < len(dcaseSizes) {
			layers = append(layers, nn.NewBatchNorm1D(dcaseSizes[i+1]), nn.NewReLU())
		}
	}
	return nn.NewSequential(layers...)
}

// cpuNow returns the process's CPU time (user + system, all threads).
func cpuNow() time.Duration {
	d, _ := cputime.Process()
	return d
}

// rate is a throughput per second of wall-clock and of CPU time.
type rate struct{ wall, cpu float64 }

// settle is the pause between PyTorch's measurements and ours.
const settle = 500 * time.Millisecond

// measure calls f (which processes units per call) for at least d of wall
// time, after one warm-up call.
func measure(f func(), units int, d time.Duration) rate {
	f()
	n := 0
	t0, c0 := time.Now(), cpuNow()
	for time.Since(t0) < d || n < 2 {
		f()
		n++
	}
	wall, cpu := time.Since(t0).Seconds(), (cpuNow() - c0).Seconds()
	return rate{float64(n*units) / wall, float64(n*units) / max(cpu, 1e-9)}
}

// torch is a running dcase_torch_bench.py --serve.
type torch struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	out *bufio.Scanner
}

func startTorch(python, script string, threads int, pinned bool) (*torch, error) {
	args := []string{script, "--serve", "--threads", strconv.Itoa(threads)}
	if !pinned {
		args = append(args, "--blas-threads", "0")
	}
	cmd := exec.Command(python, args...)
	cmd.Stderr = os.Stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &torch{cmd: cmd, in: bufio.NewWriter(w), out: bufio.NewScanner(r)}
	if !t.out.Scan() {
		return nil, fmt.Errorf("%s did not start: %v", script, t.out.Err())
	}
	return t, nil
}

func (t *torch) ask(cmd string) (rate, error) {
	fmt.Fprintln(t.in, cmd)
	if err := t.in.Flush(); err != nil {
		return rate{}, err
	}
	if !t.out.Scan() {
		return rate{}, fmt.Errorf("no answer to %q: %v", cmd, t.out.Err())
	}
	var a struct {
		Wall, CPU float64
		Error     string
	}
	if err := json.Unmarshal(t.out.Bytes(), &a); err != nil {
		return rate{}, err
	}
	if a.Error != "" {
		return rate{}, fmt.Errorf("%s", a.Error)
	}
	return rate{a.Wall, a.CPU}, nil
}

func (t *torch) close() {
	fmt.Fprintln(t.in, "quit")
	t.in.Flush()
	t.cmd.Wait()
}

// peak runs gemm's BenchmarkPeakFMA on one core and returns the best of
// three runs in GFLOP per second of CPU time (0 when it cannot run): the
// wall-clock figure falls whenever another process holds the core.
func peak() float64 {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "PeakFMA", "-benchtime", "2000x",
		"-count", "3", "-cpu", "1", "./pkg/nn/internal/gemm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "peak: %v\n%s", err, out)
		return 0
	}
	best := 0.0
	for _, m := range regexp.MustCompile(`([0-9.]+) GFLOP/cpu-s`).FindAllStringSubmatch(string(out), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		best = max(best, v)
	}
	return best
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// series collects one figure's rates over the rounds.
type series struct{ wall, cpu []float64 }

func (s *series) add(r rate) {
	s.wall = append(s.wall, r.wall)
	s.cpu = append(s.cpu, r.cpu)
}

func (s *series) med() rate { return rate{median(s.wall), median(s.cpu)} }

func main() {
	rounds := flag.Int("rounds", 3, "measurement rounds (the table shows medians)")
	seconds := flag.Float64("seconds", 1, "seconds per measurement")
	python := flag.String("python", "/usr/bin/python3", "python with torch")
	script := flag.String("torch", "pkg/nn/testdata/dcase_torch_bench.py", "PyTorch benchmark script")
	noTorch := flag.Bool("notorch", false, "measure ours only")
	noVAE := flag.Bool("novae", false, "skip the VAE score")
	flag.Parse()
	d := time.Duration(*seconds * float64(time.Second))
	fwdMACs, trainMACs := macs()

	// torches[0], [1]: one and two threads with OpenBLAS pinned to as many;
	// torches[2]: set_num_threads(1) with OpenBLAS left to its default.
	var torches [3]*torch
	if !*noTorch {
		for i := range torches {
			t, err := startTorch(*python, filepath.Clean(*script), min(i+1, 2)-i/2, i < 2)
			if err != nil {
				fmt.Fprintln(os.Stderr, "PyTorch:", err)
				os.Exit(1)
			}
			defer t.close()
			torches[i] = t
		}
	}

	rng := rand.New(rand.NewPCG(1, 1))
	net := dcaseNet(rng)
	model := nn.NewLossModel(net, nn.MSE)
	opt := nn.NewAdam(net.Params(), 1e-3)
	xs := map[int]nn.Tensor{}
	for _, b := range []int{1, 64, 512, 4096} {
		x := nn.NewTensor(b, nn.Shape{640})
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		xs[b] = x
	}
	// A few steps so that BatchNorm's statistics are not the initial ones.
	for i := 0; i < 5; i++ {
		model.Step(xs[512], nn.Tensor{}, true)
		opt.Step()
	}
	folded := nn.Fold(net)

	type key struct {
		what  string // train, infer, fold
		batch int
		who   string // go1, go2, torch1, torch2
	}
	res := map[key]*series{}
	put := func(k key, r rate) {
		if res[k] == nil {
			res[k] = &series{}
		}
		res[k].add(r)
	}
	ask := func(i int, cmd string) rate {
		r, err := torches[i].ask(cmd)
		if err != nil {
			fmt.Fprintln(os.Stderr, "PyTorch:", err)
			os.Exit(1)
		}
		return r
	}
	load0 := loadavg()
	pk := peak()
	prevProcs := runtime.GOMAXPROCS(0)
	var vaeFwd, vaeK16 series
	var vm *vae.Model
	var vx []float32
	const vaeN = 256
	if !*noVAE {
		var err error
		if vm, err = vae.New(vae.DCASE()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		vx = make([]float32, vaeN*vm.InputDim())
		for i := range vx {
			vx[i] = float32(rng.NormFloat64())
		}
	}
	for r := 0; r < *rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d/%d\n", r+1, *rounds)
		// Ours first, after a pause: PyTorch's BLAS threads busy-wait for
		// a while after their last product (OpenBLAS's thread timeout),
		// and measured right after them our second goroutine would share a
		// core with them.
		time.Sleep(settle)
		for procs := 1; procs <= 2; procs++ {
			runtime.GOMAXPROCS(procs)
			who := fmt.Sprintf("go%d", procs)
			put(key{"train", 512, who}, measure(func() { model.Step(xs[512], nn.Tensor{}, true); opt.Step() }, 512, d))
			for _, b := range []int{1, 64, 4096} {
				x := xs[b]
				put(key{"infer", b, who}, measure(func() { net.Forward(x, false) }, b, d))
				put(key{"fold", b, who}, measure(func() { folded.Forward(x, false) }, b, d))
			}
		}
		if torches[0] != nil {
			for i, who := range []string{"torch1", "torch2", "torch1u"} {
				put(key{"train", 512, who}, ask(i, fmt.Sprintf("train %g", *seconds)))
				for _, b := range []int{1, 64, 4096} {
					put(key{"infer", b, who}, ask(i, fmt.Sprintf("infer %d %g", b, *seconds)))
				}
			}
			time.Sleep(settle)
		}
		runtime.GOMAXPROCS(1)
		if vm != nil {
			rec := make([]float32, len(vx))
			fe, _ := vm.NewScorer(vae.ScoreConfig{})
			se, _ := vm.NewScorer(vae.ScoreConfig{Type: vae.LogEvidence, Samples: 16})
			scores := make([]float64, vaeN)
			vaeFwd.add(measure(func() { fe.Reconstruct(rec, vx, nil, vaeN) }, vaeN, d))
			vaeK16.add(measure(func() { se.Score(scores, nil, vx, vaeN) }, vaeN, d))
		}
	}
	runtime.GOMAXPROCS(prevProcs)
	pk = max(pk, peak())
	load1 := loadavg()

	get := func(what string, b int, who string) rate {
		if s := res[key{what, b, who}]; s != nil {
			return s.med()
		}
		return rate{}
	}
	fmt.Printf("DCASE 2020 baseline (640-128x4-8-128x4-640, BatchNorm+ReLU), float32, %s/%s, %d CPUs, %d rounds x %gs, medians\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *rounds, *seconds)
	fmt.Printf("load average (1, 5, 15 min) at the start: %s; at the end: %s\n", load0, load1)
	fmt.Printf("FMA peak (gemm BenchmarkPeakFMA, one core, per CPU-second, best of 6 runs at the start and the end): %.1f GFLOP/s\n\n", pk)
	fmt.Println("vectors/s per second of wall clock (in brackets: per second of process CPU time); ratios likewise;")
	fmt.Println("GFLOP/s and % of peak from the CPU-time rate")
	fmt.Println()
	fmt.Println("| workload | ours, 1 core | PyTorch, 1 thread | ours / PyTorch | ours GFLOP/s | % of peak | ours, GOMAXPROCS=2 | 2 cores / 1 core | PyTorch, 2 threads | PyTorch, set_num_threads(1) only |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name, what string, b int, flopsPer float64) {
		o1, o2 := get(what, b, "go1"), get(what, b, "go2")
		tw := what
		if what == "fold" {
			tw = "infer"
		}
		t1, t2, tu := get(tw, b, "torch1"), get(tw, b, "torch2"), get(tw, b, "torch1u")
		gf := o1.cpu * flopsPer / 1e9
		pct := ""
		if pk > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*gf/pk)
		}
		ratio := func(a, b rate) string {
			if b.wall == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f (%.2f)", a.wall/b.wall, a.cpu/b.cpu)
		}
		f := func(r rate) string {
			if r.wall == 0 {
				return "–"
			}
			return fmt.Sprintf("%s (%s)", thousands(r.wall), thousands(r.cpu))
		}
		fmt.Printf("| %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s |\n",
			name, f(o1), f(t1), ratio(o1, t1), gf, pct, f(o2), ratio(o2, o1), f(t2), f(tu))
	}
	row("training, batch 512", "train", 512, 2*trainMACs)
	for _, b := range []int{1, 64, 4096} {
		row(fmt.Sprintf("inference, batch %d (Fold)", b), "fold", b, 2*fwdMACs)
	}
	for _, b := range []int{1, 64, 4096} {
		row(fmt.Sprintf("inference, batch %d (eval mode)", b), "infer", b, 2*fwdMACs)
	}
	fmt.Println()
	fmt.Println("Training counts the products' flops: forward, weight gradients, and input gradients of every")
	fmt.Printf("layer but the first (%.2f MFLOP per vector; forward %.2f MFLOP).\n", 2*trainMACs/1e6, 2*fwdMACs/1e6)
	if vm != nil {
		f, k := vaeFwd.med(), vaeK16.med()
		fmt.Printf("\nVAE (pkg/vae DCASE(), 256 patches, one core): forward %s patches/s (%s per CPU-s), "+
			"log-evidence K=16 %s (%s); cost of K=16 = %.2f forward passes (CPU: %.2f), target ≤ 12\n",
			thousands(f.wall), thousands(f.cpu), thousands(k.wall), thousands(k.cpu), f.wall/k.wall, f.cpu/k.cpu)
	}
	fmt.Printf("\nbuild: %s\n", buildLine())
}

// loadavg returns the first three fields of /proc/loadavg ("?" elsewhere).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// buildLine reports the Go version and GOAMD64 level of this run (the
// kernel set itself is chosen at run time from the CPU; -tags noasm would
// force the pure-Go kernels).
func buildLine() string {
	return fmt.Sprintf("%s, GOAMD64=%q", runtime.Version(), os.Getenv("GOAMD64"))
}

// thousands formats v rounded to an integer with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
