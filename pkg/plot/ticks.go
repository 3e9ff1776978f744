package plot

import (
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
)

// linearTicks returns about target major ticks at multiples of a 1-2-2.5-5
// step, labelled with just enough decimals, and unlabelled minor ticks
// between them.
func linearTicks(lo, hi float64, target int) []gplot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	raw := (hi - lo) / float64(target)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, minor := 10*mag, 5
	for _, m := range []struct {
		f float64
		n int
	}{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}} {
		if m.f*mag >= raw {
			step, minor = m.f*mag, m.n
			break
		}
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if r := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(r-2.5) < 1e-9 {
		decimals++
	}
	format := func(v float64) string {
		if math.Abs(v) >= 1e6 || (v != 0 && math.Abs(v) < 1e-4) {
			return strconv.FormatFloat(v, 'g', 4, 64)
		}
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
	var ticks []gplot.Tick
	first := math.Floor(lo/step) * step
	for i := 0; ; i++ {
		v := first + float64(i)*step
		if v > hi+step*1e-9 {
			break
		}
		if v >= lo-step*1e-9 {
			if math.Abs(v) < step*1e-9 {
				v = 0
			}
			ticks = append(ticks, gplot.Tick{Value: v, Label: format(v)})
		}
		for k := 1; k < minor; k++ {
			m := v + float64(k)*step/float64(minor)
			if m >= lo && m <= hi {
				ticks = append(ticks, gplot.Tick{Value: m})
			}
		}
	}
	return ticks
}

// niceTicker is linearTicks aiming at about 7 labels.
var niceTicker = gplot.TickerFunc(func(lo, hi float64) []gplot.Tick { return linearTicks(lo, hi, 7) })

// logTicker labels powers of ten (minor ticks at 2…9 times them) when the
// range spans 1.5 decades or more, and falls back to linear ticks on
// shorter ranges.
var logTicker = gplot.TickerFunc(func(lo, hi float64) []gplot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	if math.Log10(hi/lo) < 1.5 {
		return linearTicks(lo, hi, 5)
	}
	var ticks []gplot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		if p >= lo && p <= hi {
			ticks = append(ticks, gplot.Tick{Value: p, Label: strconv.FormatFloat(p, 'g', -1, 64)})
		}
		for k := 2; k < 10; k++ {
			if m := float64(k) * p; m >= lo && m <= hi {
				ticks = append(ticks, gplot.Tick{Value: m})
			}
		}
	}
	return ticks
})

// indexTicker is niceTicker for a point-index axis: only whole numbers
// are labelled.
var indexTicker = gplot.TickerFunc(func(lo, hi float64) []gplot.Tick {
	ticks := linearTicks(lo, hi, 7)
	for i := range ticks {
		if ticks[i].Value != math.Trunc(ticks[i].Value) {
			ticks[i].Label = ""
		}
	}
	return ticks
})
