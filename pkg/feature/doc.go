// Package feature is the one front end that the streaming spectrogram stage
// and the training command share: a Config (sample rate, STFT settings and
// patch shape) with a stable Hash stored in model artifacts, presets for the
// DCASE 2020 baseline and for vibration sensors, and the Extractor that turns
// one (machine, sensor) stream of samples into frequency-tagged patches.
//
// A model trained on patches from one Config must only score patches from a
// Config with the same Hash; the Hash covers every setting that changes a
// patch value or its layout.
package feature
