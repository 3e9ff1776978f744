package demo

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mhmstream/mhm/pkg/wire"
)

// MachineResult is the verdict on one machine.
type MachineResult struct {
	Machine string `json:"machine"`
	Kind    string `json:"kind"`
	// The injected fault ("" none), its onset and when it became clear
	// (stream time; Visible < 0: never during the stream), and whether a
	// detector is expected to see it.
	Fault      string        `json:"fault,omitempty"`
	Start      time.Duration `json:"start_ns,omitempty"`
	Visible    time.Duration `json:"visible_ns,omitempty"`
	Detectable bool          `json:"detectable"`
	// Detected: an alarm after the onset; At is the end of the first
	// decision window above the threshold after the onset with the alarm
	// raised (stream time), Delay = At − Start, DelayVisible = At − Visible
	// (negative: the alarm came before the fault was clear).
	Detected     bool          `json:"detected"`
	At           time.Duration `json:"at_ns,omitempty"`
	Delay        time.Duration `json:"delay_ns,omitempty"`
	DelayVisible time.Duration `json:"delay_visible_ns,omitempty"`
	// FalseAlarms are alarm episodes raised before the onset, or on a
	// healthy machine; Alarms all episodes.
	FalseAlarms int     `json:"false_alarms"`
	Alarms      int     `json:"alarms"`
	Events      int     `json:"events"`
	Windows     int     `json:"windows"`
	Above       int     `json:"windows_above"`
	Peak        float64 `json:"peak_severity"`
	Threshold   float64 `json:"threshold"`
	TopBand     string  `json:"top_band,omitempty"` // of the first event after the onset

	// Run to failure (FEMTO): the first alarm after the baseline, as % of
	// life and minutes before the last snapshot; the share of decided
	// windows above the threshold in 20–50 % of life; alarms raised within
	// the baseline (training and calibration snapshots).
	LifePct          float64 `json:"life_pct,omitempty"`
	MinutesBeforeEnd float64 `json:"minutes_before_end,omitempty"`
	Flagged2050      float64 `json:"flagged_20_50,omitempty"`
	BaselineAlarms   int     `json:"baseline_alarms,omitempty"`
}

// episodes groups a machine's events into alarms. Every decision window
// above the threshold while an alarm is raised gives an event whose
// Consecutive counts the windows above in a row, so an event whose count
// is not its predecessor's plus one starts a new alarm (the one before
// cleared). Windows are counted as decided, so a recording with gaps
// (FEMTO's snapshots every 10 s) keeps its alarms whole.
func episodes(evs []wire.Event) [][]wire.Event {
	evs = append([]wire.Event(nil), evs...)
	sort.Slice(evs, func(i, j int) bool { return evs[i].WindowStartNs < evs[j].WindowStartNs })
	var out [][]wire.Event
	for _, e := range evs {
		if n := len(out); n > 0 && continues(out[n-1][len(out[n-1])-1], e) {
			out[n-1] = append(out[n-1], e)
			continue
		}
		out = append(out, []wire.Event{e})
	}
	return out
}

// continues says whether event e follows prev in the same alarm.
func continues(prev, e wire.Event) bool {
	return e.Consecutive == prev.Consecutive+1 && e.WindowStartNs >= prev.WindowEndNs
}

// judgeFleet compares u's events with its fault schedule.
func judgeFleet(u *unit, origin int64) MachineResult {
	r := MachineResult{Machine: u.ID, Kind: u.Kind, Events: len(u.Events), Windows: len(u.Scores), Threshold: u.Meta.Threshold.Value, Visible: -1}
	for _, s := range u.Scores {
		if s.Score > s.Threshold {
			r.Above++
		}
	}
	for _, e := range u.Events {
		r.Peak = max(r.Peak, e.Severity)
	}
	onset := int64(1<<63 - 1)
	if len(u.Faults) > 0 {
		f := u.Faults[0]
		r.Fault, r.Detectable, r.Start = f.Fault, f.Detectable, time.Duration(f.StartNs-origin)
		onset = f.StartNs
		if f.VisibleNs != 0 {
			r.Visible = time.Duration(f.VisibleNs - origin)
		}
	}
	eps := episodes(u.Events)
	r.Alarms = len(eps)
	for _, ep := range eps {
		if ep[0].WindowEndNs <= onset {
			r.FalseAlarms++
		}
	}
	if r.Fault == "" {
		return r
	}
	for _, ep := range eps {
		for _, e := range ep {
			if e.WindowEndNs > onset {
				r.Detected = true
				r.At = time.Duration(e.WindowEndNs - origin)
				r.Delay = r.At - r.Start
				if r.Visible >= 0 {
					r.DelayVisible = r.At - r.Visible
				}
				if len(e.Bands) > 0 {
					r.TopBand = hzRange(e.Bands[0].LowHz, e.Bands[0].HighHz)
				}
				return r
			}
		}
	}
	return r
}

// printSummary prints the table and the verdict.
func printSummary(out *lockedWriter, res *Result, src source) {
	var b strings.Builder
	b.WriteString("\nsummary\n")
	if res.Mode == "femto" {
		fmt.Fprintf(&b, "%-22s %-9s %-12s %-28s %-14s %-9s %s\n", "bearing", "threshold", "life", "first alarm after baseline", "before the end", "flagged", "alarms in baseline")
		for _, m := range res.Machines {
			alarm := "none"
			before := "-"
			if m.Detected {
				alarm = fmt.Sprintf("%s (%.1f%% of life)", relTime(int64(m.At), true), m.LifePct)
				before = fmt.Sprintf("%.1f min", m.MinutesBeforeEnd)
			}
			fmt.Fprintf(&b, "%-22s %-9.4g %-12s %-28s %-14s %-9s %d\n", m.Machine, m.Threshold, relTime(int64(src.streamNs()), true), alarm, before,
				fmt.Sprintf("%.1f%%", 100*m.Flagged2050), m.BaselineAlarms)
		}
		b.WriteString("(flagged: share of the snapshots between 20% and 50% of life above the threshold; the baseline is the first 20%, training and calibration)\n")
	} else {
		fmt.Fprintf(&b, "%-11s %-8s %-44s %-11s %-32s %-7s %-13s %-7s %s\n", "machine", "kind", "fault injected (stream time)", "detectable", "detected (delay: onset / clear)", "missed", "false alarms", "events", "peak")
		for _, m := range res.Machines {
			fmt.Fprintf(&b, "%-11s %-8s %-44s %-11s %-32s %-7s %-13d %-7d %s\n", m.Machine, m.Kind, faultText(m), yesNo(m.Detectable, m.Fault != ""),
				detectText(m), missedText(m), m.FalseAlarms, m.Events, peakText(m.Peak))
		}
	}
	fmt.Fprintf(&b, "\n")
	if res.Mode == "fleet" {
		healthy := 0
		for _, m := range res.Machines {
			if m.Fault == "" {
				healthy++
			}
		}
		if res.AllDetected() {
			fmt.Fprintf(&b, "detection:    every detectable fault was detected (%d of %d)\n", res.Detected, res.Detectable)
		} else {
			var missed []string
			for _, m := range res.Machines {
				if m.Detectable && !m.Detected {
					missed = append(missed, m.Machine)
				}
			}
			fmt.Fprintf(&b, "detection:    NOT every detectable fault was detected: %d of %d (missed: %s)\n", res.Detected, res.Detectable, strings.Join(missed, ", "))
		}
		if res.FalseAlarms == 0 {
			fmt.Fprintf(&b, "false alarms: none (no alarm on the %s, none before a fault's onset)\n", plural(healthy, "healthy machine"))
		} else {
			fmt.Fprintf(&b, "false alarms: %d raised (on healthy machines or before a fault's onset)\n", res.FalseAlarms)
		}
	} else {
		for _, m := range res.Machines {
			if m.Detected {
				fmt.Fprintf(&b, "alarm:        %s raised its first persistent alarm after the baseline at %.1f%% of life, %.1f minutes before the end of the test\n", m.Machine, m.LifePct, m.MinutesBeforeEnd)
			} else {
				fmt.Fprintf(&b, "alarm:        %s raised no persistent alarm after the baseline\n", m.Machine)
			}
		}
	}
	rate := 0.0
	if res.StreamWall > 0 {
		rate = res.SensorSeconds / res.StreamWall.Seconds()
	}
	pace := fmt.Sprintf("%.0fx real time per machine", rate/float64(max(1, len(res.Machines))))
	if res.Mode == "femto" {
		pace = fmt.Sprintf("%.1f h of the test's life in %.1f s", float64(src.streamNs())/3600e9, res.StreamWall.Seconds())
	}
	fmt.Fprintf(&b, "throughput:   %.0f sensor-seconds streamed and decided in %.1f s wall: %.0f sensor-s per wall second (%s); %d windows decided, %.0f patches scored, %d events, %.0f dead letters\n",
		res.SensorSeconds, res.StreamWall.Seconds(), rate, pace, res.Windows, res.Patches, res.Events, res.DLQ)
	fmt.Fprintf(&b, "time:         %.1f s in all (training %.1f s, streaming %.1f s)\n", res.TotalWall.Seconds(), res.TrainWall.Seconds(), res.StreamWall.Seconds())
	fmt.Fprintf(&b, "report:       %s\n", res.Report)
	out.printf("%s", b.String())
}

func yesNo(v, applies bool) string {
	switch {
	case !applies:
		return "-"
	case v:
		return "yes"
	}
	return "no"
}

func faultText(m MachineResult) string {
	if m.Fault == "" {
		return "none (healthy)"
	}
	s := fmt.Sprintf("%s at %s", m.Fault, relTime(int64(m.Start), false))
	if m.Visible >= 0 && m.Visible > m.Start+10*time.Second {
		s += fmt.Sprintf(", clear at %s", relTime(int64(m.Visible), false))
	}
	return s
}

func detectText(m MachineResult) string {
	switch {
	case m.Fault == "":
		return "-"
	case !m.Detected && !m.Detectable:
		return "no (not expected)"
	case !m.Detected:
		return "NO"
	}
	s := fmt.Sprintf("%s (%.1f s", relTime(int64(m.At), false), m.Delay.Seconds())
	if m.Visible >= 0 {
		s += fmt.Sprintf(" / %+.1f s", m.DelayVisible.Seconds())
	}
	s += ")"
	if !m.Detectable {
		s += " unexpected"
	}
	return s
}

func missedText(m MachineResult) string {
	if !m.Detectable {
		return "-"
	}
	if m.Detected {
		return "no"
	}
	return "YES"
}

func peakText(p float64) string {
	if p == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", p)
}

// plural writes "1 healthy machine", "2 healthy machines".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
