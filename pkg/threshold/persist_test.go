package threshold

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func bits(s string) []bool {
	b := make([]bool, len(s))
	for i, c := range s {
		b[i] = c == '1'
	}
	return b
}

func trans(s string) string {
	out := make([]byte, len(s))
	for i, c := range s {
		switch c {
		case 'R':
			out[i] = 'R'
		case 'C':
			out[i] = 'C'
		default:
			out[i] = '.'
		}
	}
	return string(out)
}

func TestPersistenceHand(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   PersistenceConfig
		above string
		want  string // R raised, C cleared, . nothing
	}{
		// FEMTO: 3 consecutive. Raised at the third 1 of a run, cleared at the first 0.
		{"femto", PersistenceConfig{}, "110111101", ".....R.C."},
		{"femto 3 of 3 explicit", PersistenceConfig{K: 3, N: 3}, "1111", "..R."},
		// 2 of the last 4: windows 0,2 above → count 2 at index 2.
		// index 3: ring 1010 → 2; index 4: 0100 → 1 → cleared;
		// index 5: 1001? ring holds windows 2..5 = 1,0,0,1 → 2 → raised.
		{"2 of 4", PersistenceConfig{K: 2, N: 4}, "101001", "..R.CR"},
		// Quiet = 2 with 3 of 3: a single quiet window does not clear,
		// two do; re-raising needs three new consecutive windows.
		{"quiet 2", PersistenceConfig{Quiet: 2}, "11101001110", "..R...C..R."},
		// K = N = 1: every above window raises, every other clears.
		{"1 of 1", PersistenceConfig{K: 1}, "0110", ".R.C"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := NewPersistence(c.cfg)
			got := make([]byte, len(c.above))
			for i, a := range bits(c.above) {
				switch p.Update(a) {
				case Raised:
					got[i] = 'R'
				case Cleared:
					got[i] = 'C'
				default:
					got[i] = '.'
				}
			}
			if string(got) != trans(c.want) {
				t.Errorf("above %s: got %s, want %s", c.above, got, c.want)
			}
		})
	}
}

// With Quiet = 0 the state after window i is exactly "at least K of the
// windows max(0, i−N+1)..i are above"; check that definition on random input.
func TestPersistenceDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		n := 1 + r.IntN(6)
		k := 1 + r.IntN(n)
		above := make([]bool, 1+r.IntN(100))
		for i := range above {
			above[i] = r.IntN(3) > 0
		}
		cfg := PersistenceConfig{K: k, N: n}
		got := AlarmStates(nil, above, cfg)
		first := -1
		for i := range above {
			cnt := 0
			for j := max(0, i-n+1); j <= i; j++ {
				if above[j] {
					cnt++
				}
			}
			if want := cnt >= k; got[i] != want {
				t.Fatalf("K=%d N=%d i=%d: got %v, want %v", k, n, i, got[i], want)
			}
			if first < 0 && got[i] {
				first = i
			}
		}
		if fa := FirstAlarm(above, cfg); fa != first {
			t.Fatalf("FirstAlarm %d, want %d", fa, first)
		}
	}
}

func TestPersistenceMisc(t *testing.T) {
	p := NewPersistence(PersistenceConfig{K: 2, N: 3})
	p.Update(true)
	p.Update(true)
	if !p.Active() || p.Above() != 2 || p.Seen() != 2 {
		t.Fatalf("state: active %v above %d seen %d", p.Active(), p.Above(), p.Seen())
	}
	p.Reset()
	if p.Active() || p.Above() != 0 || p.Seen() != 0 {
		t.Fatalf("after reset")
	}
	if c := p.Config(); c.K != 2 || c.N != 3 {
		t.Fatalf("config %+v", c)
	}
	if n := testing.AllocsPerRun(100, func() { p.Update(true) }); n != 0 {
		t.Errorf("Update allocates %v", n)
	}
	for _, bad := range []PersistenceConfig{{K: 4, N: 3}, {K: -1}, {Quiet: -1}} {
		if err := bad.Validate(); !errors.Is(err, ErrParam) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	dst := make([]bool, 0, 10)
	if got := AlarmStates(dst, bits("0111"), PersistenceConfig{}); !slices.Equal(got, bits("0001")) || &got[0] != &dst[:1][0] {
		t.Errorf("AlarmStates %v (dst reused: %v)", got, &got[0] == &dst[:1][0])
	}
	if FirstAlarm(bits("110110"), PersistenceConfig{}) != -1 {
		t.Errorf("FirstAlarm without 3 in a row")
	}
	if Raised.String() != "raised" || Cleared.String() != "cleared" || NoChange.String() != "none" {
		t.Errorf("Transition strings")
	}
}

func BenchmarkPersistenceUpdate(b *testing.B) {
	p := NewPersistence(PersistenceConfig{K: 3, N: 5})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Update(i%3 != 0)
	}
}
