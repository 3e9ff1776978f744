package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNewFleetLayout(t *testing.T) {
	set := &FleetSettings{Healthy: time.Minute, Duration: 6 * time.Minute}
	f := NewFleet(42, 12, set)
	if !reflect.DeepEqual(f, NewFleet(42, 12, set)) {
		t.Fatal("same seed, different fleets")
	}
	if !reflect.DeepEqual(f[:6], NewFleet(42, 6, set)) {
		t.Error("a fleet of 6 is not the first 6 of a fleet of 12")
	}
	if reflect.DeepEqual(f, NewFleet(43, 12, set)) {
		t.Error("seeds 42 and 43 give the same fleet")
	}
	wantIDs := []string{"fan-01", "pump-02", "gearbox-03", "bearing-04", "motor-05", "fan-06",
		"pump-07", "gearbox-08", "bearing-09", "motor-10", "fan-11", "pump-12"}
	seeds := map[uint64]bool{}
	for i, m := range f {
		if m.ID != wantIDs[i] || !strings.HasPrefix(m.ID, m.Kind.String()) || m.Spec.Kind != m.Kind {
			t.Errorf("member %d: id %q kind %v spec kind %v, want id %q", i, m.ID, m.Kind, m.Spec.Kind, wantIDs[i])
		}
		seeds[m.Seed] = true
		if m.Spec.Duration != set.Duration {
			t.Errorf("%s: Duration %v", m.ID, m.Spec.Duration)
		}
		if _, err := m.New(); err != nil {
			t.Errorf("%s: %v", m.ID, err)
		}
		r := rolePattern[i%len(rolePattern)]
		if (r == roleHealthy) != (len(m.Spec.Faults) == 0) {
			t.Errorf("%s: role %d with %d faults", m.ID, r, len(m.Spec.Faults))
		}
		for _, fl := range m.Spec.Faults {
			lo, hi := set.Healthy+30*time.Second, set.Healthy+2*time.Minute
			if fl.Start < lo || fl.Start > hi {
				t.Errorf("%s: %v starts at %v, outside [%v, %v]", m.ID, fl.Kind, fl.Start, lo, hi)
			}
			if fl.Detectable != (r != roleHidden) {
				t.Errorf("%s: role %d, Detectable %v", m.ID, r, fl.Detectable)
			}
		}
	}
	if len(seeds) != len(f) {
		t.Errorf("%d distinct seeds for %d machines", len(seeds), len(f))
	}
	truth := f.Truth()
	if len(truth) != 8 { // 12 members, 4 healthy
		t.Fatalf("%d truths, want 8", len(truth))
	}
	if truth[0].Machine != "fan-01" || !truth[0].Detectable || truth[0].Start != f[0].Spec.Faults[0].Start {
		t.Errorf("first truth %+v", truth[0])
	}
}

func TestFleetDegradationReachesClear(t *testing.T) {
	set := &FleetSettings{Healthy: time.Minute, Duration: 6 * time.Minute}
	for _, m := range NewFleet(7, 30, set) {
		for _, fl := range m.Spec.Faults {
			if fl.Growth == 0 {
				continue
			}
			clear := ClearSeverity(m.Kind, fl.Kind)
			at := fl.Start + time.Duration(0.6*float64(set.Duration-fl.Start))
			if l := fl.Level(at); l < 0.99*clear || l > 1.01*clear {
				t.Errorf("%s: degradation at 60 %% of its life is %.3f, want the clear level %.3f", m.ID, l, clear)
			}
			if fl.Level(fl.Start) > 0.011 {
				t.Errorf("%s: degradation starts at %.3f, want invisible (0.01)", m.ID, fl.Level(fl.Start))
			}
		}
	}
}

// TestFleetLabels checks the Detectable labels NewFleet sets against a
// stand-in for a spectral-patch detector: the mean log power of 48
// log-spaced bands over 1024-sample frames, faulty against healthy with
// the same seed. Every fault kind at its ClearSeverity raises some band by
// 10 dB or more on every kind of machine; every hidden fault raises none by
// 1 dB.
func TestFleetLabels(t *testing.T) {
	for _, k := range Kinds() {
		healthy := Preset(k)
		n := int(4 * healthy.Rate)
		h := gen(t, healthy, 21, n)
		check := func(fl Fault, wantDB float64, detectable bool) {
			s := Preset(k)
			s.Faults = []Fault{fl}
			db, z := bandExcess(h, gen(t, s, 21, n), s.Rate)
			t.Logf("%-8s %-10s severity %-7.4g band excess %5.1f dB (z %5.1f)", k, fl.Kind, fl.Severity, db, z)
			if detectable && db < wantDB {
				t.Errorf("%v %v at %g: band excess %.1f dB, want >= %.0f dB", k, fl.Kind, fl.Severity, db, wantDB)
			}
			if !detectable && db > wantDB {
				t.Errorf("%v %v at %g: band excess %.1f dB, want <= %.0f dB", k, fl.Kind, fl.Severity, db, wantDB)
			}
		}
		for fk := OuterRace; fk <= Wear; fk++ {
			check(Fault{Kind: fk, Severity: ClearSeverity(k, fk)}, 10, true)
		}
		check(Fault{Kind: Imbalance, Severity: 0.05 * healthy.Harmonics[0]}, 1, false)
		check(Fault{Kind: OuterRace, Severity: 0.01}, 1, false)
	}
}

func TestFleetTruthVisible(t *testing.T) {
	set := &FleetSettings{Healthy: time.Minute, Duration: 6 * time.Minute}
	f := NewFleet(3, 12, set)
	truth := f.Truth()
	i := 0
	for _, m := range f {
		for _, fl := range m.Spec.Faults {
			tr := truth[i]
			i++
			clear := ClearSeverity(m.Kind, fl.Kind)
			switch {
			case !fl.Detectable:
				if tr.Visible != -1 {
					t.Errorf("%s hidden %v: Visible %v, want -1", m.ID, fl.Kind, tr.Visible)
				}
			case fl.Growth > 0:
				want := fl.Start + time.Duration(0.6*float64(set.Duration-fl.Start))
				if d := tr.Visible - want; d < -time.Second || d > time.Second {
					t.Errorf("%s degradation: Visible %v, want %v", m.ID, tr.Visible, want)
				}
			default:
				if want := fl.Start + fl.Ramp; tr.Visible != want {
					t.Errorf("%s %v: Visible %v, want %v", m.ID, fl.Kind, tr.Visible, want)
				}
			}
			if tr.Visible > 0 && (fl.Level(tr.Visible) < clear || fl.Level(tr.Visible-time.Millisecond) >= clear) {
				t.Errorf("%s: Level %.4f at Visible, %.4f 1 ms before; clear is %.4f", m.ID,
					fl.Level(tr.Visible), fl.Level(tr.Visible-time.Millisecond), clear)
			}
		}
	}
}
