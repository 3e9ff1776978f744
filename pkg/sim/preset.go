package sim

import (
	"fmt"
	"time"
)

// Kind is a family of machines with plausible default parameters.
type Kind int

const (
	// Fan is an industrial fan heard by a microphone at 16 kHz: a 4-pole
	// motor at 1480 rpm, 7 blades (blade pass 172.7 Hz), strong pink
	// airflow noise, housing resonances at 2.2 and 5.2 kHz.
	Fan Kind = iota + 1
	// Pump is a centrifugal pump heard by a microphone at 16 kHz: a 2-pole
	// motor at 2950 rpm, 5 impeller vanes (vane pass 245.8 Hz), pink and
	// white flow noise, a casing resonance at 3.1 kHz.
	Pump
	// Gearbox is a single-stage gearbox heard by a microphone at 16 kHz:
	// input shaft at 1500 rpm, a 23-tooth pinion (mesh 575 Hz) with shaft
	// sidebands and a second mesh harmonic, housing resonances at 3.8 and
	// 6.5 kHz.
	Gearbox
	// Bearing is a bearing test rig with an accelerometer on the bearing
	// housing at 25.6 kHz, in g, after the CWRU rig: 1797 rpm, an SKF 6205,
	// weak shaft harmonics, a housing resonance at 3 kHz and a sensor-mount
	// resonance at 8.5 kHz.
	Bearing
	// Motor is an electric motor (2-pole, 2950 rpm) with an accelerometer on
	// its drive-end bearing housing at 25.6 kHz, in g: a strong 1× line,
	// a resonance at 4.2 kHz.
	Motor
)

var kindNames = [...]string{Fan: "fan", Pump: "pump", Gearbox: "gearbox", Bearing: "bearing", Motor: "motor"}

// Kinds returns every Kind in the order NewFleet cycles through them:
// fan, pump, gearbox, bearing, motor. It allocates a fresh slice.
func Kinds() []Kind { return []Kind{Fan, Pump, Gearbox, Bearing, Motor} }

// String returns the kind's name: "fan", "pump", "gearbox", "bearing" or "motor".
func (k Kind) String() string {
	if k >= Fan && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind returns the kind whose String is name.
func ParseKind(name string) (Kind, error) {
	for k := Fan; int(k) < len(kindNames); k++ {
		if kindNames[k] == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("sim: unknown machine kind %q", name)
}

// Preset returns the healthy spec of a machine of kind k (no faults,
// endless); the parameters are in docs/sim.md. Each call returns fresh
// slices. It panics on an unknown kind.
func Preset(k Kind) Spec {
	// Drifts are stationary with correlation times of tens of seconds, so
	// one or two healthy minutes show a machine's whole operating range.
	speed := Drift{Walk: 0.004, Tau: 20 * time.Second, Bound: 0.012}
	load := Drift{Walk: 0.04, Tau: 20 * time.Second, Bound: 0.1}
	switch k {
	case Fan:
		return Spec{
			Kind: k, Sensor: Acoustic, Rate: 16000, RPM: 1480,
			Harmonics:      []float64{0.004, 0.002, 0.001},
			Mesh:           Mesh{Teeth: 7, Amp: 0.03, Amp2: 0.01, Sideband: 0.2},
			White:          0.005,
			Pink:           0.05,
			Resonances:     []Resonance{{Freq: 2200, Q: 12, Gain: 1}, {Freq: 5200, Q: 20, Gain: 0.5}},
			ResonanceNoise: 0.002,
			SpeedDrift:     speed, LoadDrift: load,
		}
	case Pump:
		return Spec{
			Kind: k, Sensor: Acoustic, Rate: 16000, RPM: 2950,
			Harmonics:      []float64{0.006, 0.003, 0.0015},
			Mesh:           Mesh{Teeth: 5, Amp: 0.02, Amp2: 0.008, Sideband: 0.15},
			White:          0.015,
			Pink:           0.03,
			Resonances:     []Resonance{{Freq: 3100, Q: 15, Gain: 1}},
			ResonanceNoise: 0.002,
			SpeedDrift:     speed, LoadDrift: load,
		}
	case Gearbox:
		return Spec{
			Kind: k, Sensor: Acoustic, Rate: 16000, RPM: 1500,
			Harmonics:      []float64{0.003, 0.0015, 0.001},
			Mesh:           Mesh{Teeth: 23, Amp: 0.04, Amp2: 0.015, Sideband: 0.3},
			White:          0.004,
			Pink:           0.02,
			Resonances:     []Resonance{{Freq: 3800, Q: 18, Gain: 1}, {Freq: 6500, Q: 25, Gain: 0.6}},
			ResonanceNoise: 0.0015,
			SpeedDrift:     speed, LoadDrift: load,
		}
	case Bearing:
		return Spec{
			Kind: k, Sensor: Vibration, Rate: 25600, RPM: 1797,
			Harmonics:      []float64{0.05, 0.02, 0.01},
			White:          0.02,
			Pink:           0.01,
			Resonances:     []Resonance{{Freq: 3000, Q: 20, Gain: 1}, {Freq: 8500, Q: 30, Gain: 0.4}},
			ResonanceNoise: 0.003,
			SpeedDrift:     Drift{Walk: 0.002, Tau: 20 * time.Second, Bound: 0.006},
			LoadDrift:      Drift{Walk: 0.03, Tau: 30 * time.Second, Bound: 0.09},
		}
	case Motor:
		return Spec{
			Kind: k, Sensor: Vibration, Rate: 25600, RPM: 2950,
			Harmonics:      []float64{0.08, 0.03, 0.01},
			White:          0.015,
			Pink:           0.01,
			Resonances:     []Resonance{{Freq: 4200, Q: 25, Gain: 1}},
			ResonanceNoise: 0.003,
			SpeedDrift:     Drift{Walk: 0.002, Tau: 20 * time.Second, Bound: 0.006},
			LoadDrift:      load,
		}
	}
	panic(fmt.Sprintf("sim: Preset of unknown kind %v", k))
}
