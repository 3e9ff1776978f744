// Package patch cuts a spectrogram (frames × bins) into frequency-tagged
// patches of T frames by F bins, with a hop in time and a hop in frequency.
//
// A patch's values are frame-major: value (t, f) is Values[t*F+f], so a
// full-band patch of 5 frames × 128 mel bands with a hop of one frame is
// exactly the DCASE 2020 Task 2 baseline's 640-value input vector. Each patch
// carries a Tag: the machine and sensor, the band index (0 for a full-band
// patch) and its frequency range in Hz, the index of its first frame in the
// stream, the time of that frame and the time the patch spans (Unix
// nanoseconds).
//
// Cutter is the streaming form: frames are pushed one at a time and each
// patch is emitted as soon as its last frame arrives, so that a stream gives
// the same patches however its frames are chunked. Cut is the offline form for
// a whole spectrogram. The package imports nothing but the standard library.
package patch
