package threshold

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParseAggregation(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Aggregation
		str  string
	}{
		{"mean", Aggregation{Kind: AggMean}, "mean"},
		{"MAX", Aggregation{Kind: AggMax}, "max"},
		{"top5", Aggregation{Kind: AggTopK, K: 5}, "top5"},
		{"top-3", Aggregation{Kind: AggTopK, K: 3}, "top3"},
		{"top10%", Aggregation{Kind: AggTopK, Frac: 0.1}, "top10%"},
		{"top12.5%", Aggregation{Kind: AggTopK, Frac: 0.125}, "top12.5%"},
	} {
		got, err := ParseAggregation(c.in)
		if err != nil || got != c.want || got.String() != c.str {
			t.Errorf("ParseAggregation(%q) = %+v (%q), %v", c.in, got, got.String(), err)
		}
	}
	for _, bad := range []string{"median", "top0", "top", "top--1", "top-0", "top0%", "top101%", "topx"} {
		if _, err := ParseAggregation(bad); !errors.Is(err, ErrAggregation) {
			t.Errorf("ParseAggregation(%q): err %v", bad, err)
		}
	}
	// JSON by name.
	b, err := json.Marshal(struct{ A Aggregation }{Aggregation{Kind: AggTopK, K: 4}})
	if err != nil || string(b) != `{"A":"top4"}` {
		t.Errorf("marshal: %s %v", b, err)
	}
	var v struct{ A Aggregation }
	if err := json.Unmarshal([]byte(`{"A":"top25%"}`), &v); err != nil || v.A.Frac != 0.25 {
		t.Errorf("unmarshal: %+v %v", v, err)
	}
}

func TestAggregationApply(t *testing.T) {
	x := []float64{4, 1, 9, 7, 3, 10, 2, 8, 6, 5}
	orig := slices.Clone(x)
	for _, c := range []struct {
		a    Aggregation
		want float64
	}{
		{Aggregation{Kind: AggMean}, 5.5},
		{Aggregation{Kind: AggMax}, 10},
		{Aggregation{Kind: AggTopK, K: 3}, 9},        // (10+9+8)/3
		{Aggregation{Kind: AggTopK, K: 1}, 10},       // = max
		{Aggregation{Kind: AggTopK, K: 50}, 5.5},     // k clamped to n: = mean
		{Aggregation{Kind: AggTopK, Frac: 0.2}, 9.5}, // ⌈0.2·10⌉ = 2
		{Aggregation{Kind: AggTopK, Frac: 0.25}, 9},  // ⌈2.5⌉ = 3
		{Aggregation{Kind: AggTopK, Frac: 0.01}, 10}, // at least 1
		{Aggregation{Kind: AggTopK, Frac: 0.3}, 9},   // 0.3·10 = 3.0000000000000004 → 3, not 4
		{Aggregation{Kind: AggTopK, Frac: 1}, 5.5},   // all
		{Aggregation{Kind: AggTopK, K: 4}, (10 + 9 + 8 + 7) / 4.0},
	} {
		if got := c.a.Apply(x); got != c.want {
			t.Errorf("%v: %v, want %v", c.a, got, c.want)
		}
	}
	if !slices.Equal(x, orig) {
		t.Errorf("Apply modified its input")
	}
	if !math.IsNaN(Aggregation{}.Apply(nil)) {
		t.Errorf("empty: want NaN")
	}
}

func TestSelectLargest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := range 500 {
		n := 1 + r.IntN(60)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(8)) // many ties
		}
		k := 1 + r.IntN(n)
		want := slices.Clone(x)
		slices.Sort(want)
		slices.Reverse(want)
		got := slices.Clone(x)
		selectLargest(got, k)
		top := slices.Clone(got[:k])
		slices.Sort(top)
		slices.Reverse(top)
		if !slices.Equal(top, want[:k]) {
			t.Fatalf("trial %d: k=%d of %v: got top %v, want %v", trial, k, x, top, want[:k])
		}
		rest := slices.Clone(got)
		slices.Sort(rest)
		if sorted := slices.Sorted(slices.Values(x)); !slices.Equal(rest, sorted) {
			t.Fatalf("selectLargest lost elements")
		}
	}
}

func TestWindowTumblingHand(t *testing.T) {
	a := NewWindowAggregator(WindowConfig{LengthNs: 10})
	for _, p := range []struct {
		t int64
		s float64
	}{{0, 1}, {3, 2}, {7, 3}} {
		if w := a.Push(p.t, p.s, nil); len(w) != 0 {
			t.Fatalf("t=%d emitted %v", p.t, w)
		}
	}
	w := a.Push(12, 100, nil) // closes [0, 10)
	if len(w) != 1 || w[0].StartNs != 0 || w[0].EndNs != 10 || w[0].Score != 2 || w[0].MaxScore != 3 || w[0].Patches != 3 {
		t.Fatalf("got %+v", w)
	}
	w = a.Push(10_000, 1, nil) // closes [10, 20); the empty windows between are skipped
	if len(w) != 1 || w[0].StartNs != 10 || w[0].Score != 100 {
		t.Fatalf("got %+v", w)
	}
	w = a.Flush()
	if len(w) != 1 || w[0].StartNs != 10_000 || w[0].Patches != 1 {
		t.Fatalf("flush %+v", w)
	}
	if len(a.Flush()) != 0 {
		t.Fatalf("second flush not empty")
	}
}

func TestWindowOverlapHand(t *testing.T) {
	// L = 10, H = 5. Window j covers [5j, 5j+10).
	//   t=1 (1) → windows −1, 0;  t=6 (3) → 0, 1;  t=11 (5) → 1, 2;  t=16 (7) → 2, 3.
	// Means: j=−1: 1; j=0: 2; j=1: 4; j=2: 6; j=3: 7.
	a := NewWindowAggregator(WindowConfig{LengthNs: 10, HopNs: 5})
	type win struct {
		start int64
		score float64
	}
	var got []win
	collect := func(ws []Window) {
		for _, w := range ws {
			got = append(got, win{w.StartNs, w.Score})
		}
	}
	collect(a.Push(1, 1, nil))
	collect(a.Push(6, 3, nil)) // closes j=−1 (ends at 5 ≤ 6)
	collect(a.Push(11, 5, nil))
	collect(a.Push(16, 7, nil))
	if want := []win{{-5, 1}, {0, 2}, {5, 4}}; !slices.Equal(got, want) {
		t.Fatalf("before flush %v, want %v", got, want)
	}
	// A late patch at t=2: its windows −1 and 0 are closed: dropped.
	if w := a.Push(2, 50, nil); len(w) != 0 || a.Late() != 1 {
		t.Fatalf("late patch: %v, Late %d", w, a.Late())
	}
	// A late patch at t=14 still reaches the open window 2 ([10, 20)).
	a.Push(14, 0, nil)
	collect(a.Flush())
	if want := []win{{-5, 1}, {0, 2}, {5, 4}, {10, 4}, {15, 7}}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestWindowFeatures(t *testing.T) {
	a := NewWindowAggregator(WindowConfig{LengthNs: 100, Features: 4, TopFeatures: 3})
	a.Push(0, 3, []float32{1, 0, 0, 2})
	a.Push(10, 4, []float32{1, 0, 3, 0})
	a.Push(20, 5, nil) // counts as a patch with no per-feature data
	w := a.Flush()
	// sums [2, 0, 3, 2] over 3 patches → means [2/3, 0, 1, 2/3]; tie 0 vs 3: lower index first.
	want := []Contribution{{2, 1}, {0, 2.0 / 3}, {3, 2.0 / 3}}
	if len(w) != 1 || !slices.Equal(w[0].Top, want) || w[0].Score != 4 {
		t.Fatalf("got %+v, want top %v", w, want)
	}

	a.Push(0, 1, nil) // no per-feature data in this window: no ranking
	if w := a.Flush(); len(w) != 1 || len(w[0].Top) != 0 {
		t.Fatalf("window without feature data: %+v", w)
	}

	b := NewWindowAggregator(WindowConfig{LengthNs: 100, Features: 8})
	b.PushBand(0, 1, 5)
	b.PushBand(1, 2, 5)
	b.PushBand(2, 6, 1)
	b.PushBand(3, 0.5, 7)
	w = b.Flush()
	want = []Contribution{{1, 1.5}, {5, 0.75}, {7, 0.125}} // default TopFeatures = 3
	if len(w) != 1 || !slices.Equal(w[0].Top, want) {
		t.Fatalf("bands: got %+v, want %v", w[0].Top, want)
	}
}

func TestWindowNaNAndNegativeTime(t *testing.T) {
	a := NewWindowAggregator(WindowConfig{LengthNs: 4, HopNs: 2})
	a.Push(-3, 1, nil) // windows j = −3 ([−6, −2)) and −2 ([−4, 0))
	a.Push(-1, math.NaN(), nil)
	w := a.Push(1, 2, nil) // jmin = ⌊−3/2⌋+1 = −1: closes j = −3 and −2
	if len(w) != 2 || w[0].StartNs != -6 || w[1].StartNs != -4 || w[0].Score != 1 || w[1].Patches != 1 || a.Invalid() != 1 {
		t.Fatalf("got %+v invalid %d", w, a.Invalid())
	}
	w = a.Flush() // j=−1 [−2,2): {2}; j=0 [0,4): {2}
	if len(w) != 2 || w[0].StartNs != -2 || w[1].StartNs != 0 {
		t.Fatalf("flush %+v", w)
	}
}

// TestWindowBruteForce compares the streaming aggregator with a direct
// computation of every window from all patches, over random configurations.
func TestWindowBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	aggs := []Aggregation{{Kind: AggMean}, {Kind: AggMax}, {Kind: AggTopK, K: 3}, {Kind: AggTopK, Frac: 0.3}}
	for trial := range 200 {
		L := int64(1 + r.IntN(50))
		H := int64(1 + r.IntN(int(L)))
		agg := aggs[trial%len(aggs)]
		const F = 5
		a := NewWindowAggregator(WindowConfig{LengthNs: L, HopNs: H, Aggregation: agg, Features: F, TopFeatures: 2})
		n := 1 + r.IntN(80)
		ts := make([]int64, n)
		sc := make([]float64, n)
		pf := make([][]float32, n)
		tm := int64(r.IntN(200)) - 100
		for i := range n {
			tm += int64(r.IntN(int(2 * H))) // gaps, repeats and jumps
			if r.IntN(10) == 0 {
				tm += 5 * L
			}
			ts[i] = tm
			sc[i] = math.Round(r.Float64()*100) / 4
			pf[i] = make([]float32, F)
			for f := range pf[i] {
				pf[i][f] = float32(r.IntN(4))
			}
		}
		var got []Window
		for i := range n {
			for _, w := range a.Push(ts[i], sc[i], pf[i]) {
				w.Top = slices.Clone(w.Top)
				got = append(got, w)
			}
		}
		for _, w := range a.Flush() {
			w.Top = slices.Clone(w.Top)
			got = append(got, w)
		}
		// Brute force.
		var want []Window
		for j := floorDiv(ts[0]-L, H) + 1; j <= floorDiv(ts[n-1], H); j++ {
			s, e := j*H, j*H+L
			var in []float64
			sums := make([]float64, F)
			for i := range n {
				if ts[i] >= s && ts[i] < e {
					in = append(in, sc[i])
					for f := range F {
						sums[f] += float64(pf[i][f])
					}
				}
			}
			if len(in) == 0 {
				continue
			}
			order := []int{0, 1, 2, 3, 4}
			slices.SortStableFunc(order, func(x, y int) int {
				switch {
				case sums[x] > sums[y]:
					return -1
				case sums[x] < sums[y]:
					return 1
				}
				return 0
			})
			top := []Contribution{{order[0], sums[order[0]] / float64(len(in))}, {order[1], sums[order[1]] / float64(len(in))}}
			want = append(want, Window{StartNs: s, EndNs: e, Score: agg.Apply(in), Patches: len(in), MaxScore: slices.Max(in), Top: top})
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d (L=%d H=%d %v): %d windows, want %d", trial, L, H, agg, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.StartNs != w.StartNs || g.EndNs != w.EndNs || g.Patches != w.Patches || g.MaxScore != w.MaxScore ||
				math.Abs(g.Score-w.Score) > 1e-12 || !slices.Equal(g.Top, w.Top) {
				t.Fatalf("trial %d (L=%d H=%d %v) window %d:\n got %+v\nwant %+v", trial, L, H, agg, i, g, w)
			}
		}
	}
}

func TestWindowNoAllocSteadyState(t *testing.T) {
	for _, agg := range []string{"mean", "top10%"} {
		ag, _ := ParseAggregation(agg)
		a := NewWindowAggregator(WindowConfig{LengthNs: 1e9, HopNs: 5e8, Aggregation: ag, Features: 128})
		pf := make([]float32, 128)
		var tm int64
		step := func() {
			tm += 32e6 // a patch every 32 ms
			a.Push(tm, float64(tm%7), pf)
		}
		for range 1000 { // warm up: buffers reach their size
			step()
		}
		if n := testing.AllocsPerRun(2000, step); n != 0 {
			t.Errorf("%s: %v allocs per Push", agg, n)
		}
	}
}

func TestWindowConfigJSON(t *testing.T) {
	cfg := WindowConfig{LengthNs: 1e9, HopNs: 5e8, Aggregation: Aggregation{Kind: AggTopK, Frac: 0.1}, Features: 128}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"length_ns":1000000000,"hop_ns":500000000,"aggregation":"top10%","features":128}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back WindowConfig
	if err := json.Unmarshal(b, &back); err != nil || back != cfg {
		t.Errorf("round trip: %+v %v", back, err)
	}
}

func TestWindowConfigPanics(t *testing.T) {
	for _, c := range []WindowConfig{
		{LengthNs: 0},
		{LengthNs: 10, HopNs: 11},
		{LengthNs: 10, HopNs: -1},
		{LengthNs: 10, Features: -1},
		{LengthNs: 10, Aggregation: Aggregation{Kind: AggTopK}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", c)
				}
			}()
			NewWindowAggregator(c)
		}()
	}
}

func BenchmarkWindowPush(b *testing.B) {
	for _, agg := range []string{"mean", "top5"} {
		for _, F := range []int{0, 128} {
			b.Run(fmt.Sprintf("%s/F=%d", agg, F), func(b *testing.B) {
				ag, _ := ParseAggregation(agg)
				a := NewWindowAggregator(WindowConfig{LengthNs: 1e9, HopNs: 5e8, Aggregation: ag, Features: F})
				var pf []float32
				if F > 0 {
					pf = make([]float32, F)
				}
				b.ReportAllocs()
				var tm int64
				for i := 0; b.Loop(); i++ {
					tm += 32e6
					a.Push(tm, float64(i%13), pf)
				}
			})
		}
	}
}

// FuzzParseAggregation: whatever parses prints back to something that
// parses to the same value.
func FuzzParseAggregation(f *testing.F) {
	for _, s := range []string{"mean", "max", "top5", "top-3", "top10%", "top12.5%", "TOP1", "top0.001%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAggregation(s)
		if err != nil {
			return
		}
		b, err := ParseAggregation(a.String())
		if err != nil || b != a {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, a, a.String(), b, err)
		}
		if a.Apply([]float64{1, 2, 3}) < 1 {
			t.Fatalf("%v of {1,2,3} below the minimum", a)
		}
	})
}
