package sim_test

import (
	"fmt"
	"math"
	"time"

	"github.com/mhmstream/mhm/pkg/sim"
)

func ExampleBearingFreqs() {
	// The drive-end bearing of the CWRU rig at 1797 rpm.
	f := sim.BearingFreqs(1797.0/60, sim.SKF6205)
	fmt.Printf("BPFO %.1f Hz, BPFI %.1f Hz, BSF %.1f Hz (impacts at 2·BSF = %.1f Hz), FTF %.1f Hz\n",
		f.BPFO, f.BPFI, f.BSF, 2*f.BSF, f.FTF)
	// Output:
	// BPFO 107.4 Hz, BPFI 162.2 Hz, BSF 70.6 Hz (impacts at 2·BSF = 141.2 Hz), FTF 11.9 Hz
}

func ExampleNew() {
	// A bearing rig whose outer race spalls after 1 s.
	spec := sim.Preset(sim.Bearing)
	spec.Faults = []sim.Fault{{Kind: sim.OuterRace, Start: time.Second, Severity: 0.5}}
	m, err := sim.New(spec, 1)
	if err != nil {
		panic(err)
	}
	// Stream it in 100 ms chunks; report the peak acceleration of each second.
	buf := make([]float32, int(m.SampleRate()/10))
	for s := 0; s < 2; s++ {
		active := len(m.ActiveFaults(nil, m.Elapsed())) // at the second's first sample
		var pk float64
		for range 10 {
			n := m.Read(buf)
			for _, v := range buf[:n] {
				pk = math.Max(pk, math.Abs(float64(v)))
			}
		}
		fmt.Printf("second %d: peak %.1f %s, active faults %d\n", s+1, pk, spec.Sensor.Unit(), active)
	}
	// Output:
	// second 1: peak 0.2 g, active faults 0
	// second 2: peak 0.7 g, active faults 1
}

func ExampleNewFleet() {
	fleet := sim.NewFleet(1, 6, &sim.FleetSettings{Healthy: 2 * time.Minute, Duration: 10 * time.Minute})
	for _, m := range fleet {
		fmt.Printf("%-10s %-9s %5.0f Hz %v\n", m.ID, m.Spec.Sensor, m.Spec.Rate, len(m.Spec.Faults))
	}
	for _, t := range fleet.Truth() {
		fmt.Printf("%s: %v from %v, clear from %v, detectable %v\n", t.Machine, t.Fault, t.Start, t.Visible, t.Detectable)
	}
	// Output:
	// fan-01     acoustic  16000 Hz 1
	// pump-02    acoustic  16000 Hz 0
	// gearbox-03 acoustic  16000 Hz 1
	// bearing-04 vibration 25600 Hz 1
	// motor-05   vibration 25600 Hz 0
	// fan-06     acoustic  16000 Hz 1
	// fan-01: wear from 3m2s, clear from 3m7s, detectable true
	// gearbox-03: ball from 3m24s, clear from 3m29s, detectable true
	// bearing-04: outer-race from 3m46s, clear from 7m30.4s, detectable true
	// fan-06: imbalance from 4m34s, clear from -1ns, detectable false
}
