// Package sim simulates rotating machines and their faults: deterministic,
// seeded, streaming float32 signals whose physics a reliability engineer
// recognises, for tests, benchmarks and the demo of the pipeline.
//
// A machine (Spec, built by New) is the sum of
//
//   - a rotating shaft at RPM/60 Hz with its 1×, 2×, 3×… harmonics
//     (Spec.Harmonics);
//   - a gear mesh, blade pass or vane pass at Teeth × shaft speed with
//     shaft-rate sidebands and a second harmonic (Mesh);
//   - white and pink broadband noise (Spec.White, Spec.Pink);
//   - structural resonances, two-pole resonators at a few kHz with a Q
//     (Resonance), rung by a weak random force and by bearing impacts;
//   - slow, bounded, stationary drift of speed and load (Drift);
//   - injected faults (Fault) with an onset, a ramp and optional
//     exponential growth: bearing defects as impulse trains at the
//     outer-race, inner-race and ball defect frequencies (BearingFreqs) that
//     ring the resonances, imbalance, looseness and distributed wear.
//
// Preset gives plausible specs for five kinds of machine: a fan, a pump and
// a gearbox heard by a microphone at 16 kHz, a bearing rig and a motor
// measured by an accelerometer at 25.6 kHz in g. NewFleet builds a mixed
// fleet with ids ("fan-01", "pump-02", …), seeds and a fault schedule whose
// truth (Fleet.Truth) says which machine got which fault when, and whether
// a spectral-patch detector is expected to see it.
//
// Machine.Read fills a buffer with the next samples. The output depends
// only on the spec and the seed, never on how the stream is cut into
// chunks, and Read does not allocate. Every component draws from its own
// random stream, so a faulty machine and the healthy machine with the same
// seed are identical, bit for bit, until the fault starts. Generation runs
// hundreds of times faster than real time on one core (docs/sim.md).
//
// The models, formulas, defaults and measured figures are in docs/sim.md.
package sim
