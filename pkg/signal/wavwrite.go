package signal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
)

// WAVEncoding selects how EncodeWAV and WriteWAV store samples.
type WAVEncoding int

const (
	// WAVFloat32 stores IEEE float 32-bit samples (WAVE_FORMAT_IEEE_FLOAT):
	// lossless for float32 signals; ReadWAV returns them bit for bit.
	WAVFloat32 WAVEncoding = iota
	// WAVPCM16 stores 16-bit PCM (WAVE_FORMAT_PCM), the code of x being
	// round(x·32768) clamped to [−32768, 32767]: the inverse of ReadWAV's
	// x/2^15, so full scale is [−1, 1) and a value k/32768 in that range
	// survives the round trip exactly. Other values are off by at most half
	// a code, 2^−16; values outside [−1, 1) clip.
	WAVPCM16
)

// String returns "float32" or "pcm16".
func (e WAVEncoding) String() string {
	switch e {
	case WAVFloat32:
		return "float32"
	case WAVPCM16:
		return "pcm16"
	}
	return fmt.Sprintf("WAVEncoding(%d)", int(e))
}

// maxWAVData is the largest data chunk a RIFF file can describe: the RIFF
// size field (4 bytes) counts 36 header bytes plus the data.
const maxWAVData = math.MaxUint32 - 36

// EncodeWAV writes s to w as a canonical RIFF/WAVE file: a 16-byte fmt
// chunk (WAVE_FORMAT_IEEE_FLOAT for WAVFloat32, WAVE_FORMAT_PCM for
// WAVPCM16), then the data chunk with the channels interleaved, little
// endian. It writes nothing else (no fact or LIST chunk), which every WAV
// reader accepts.
//
// It returns an error, before writing anything, when s has no channel,
// channels of different lengths, a rate that is not a whole number of Hz in
// [1, 2^32), more than 65535 channels, or more data than a RIFF file holds
// (4 GiB), and it passes on w's errors. NaN and ±Inf samples are written as
// they are in float32 and are an error in PCM16. It writes in blocks of up to
// 64 KiB (a frame larger than that is one block) and allocates nothing per
// sample.
func EncodeWAV(w io.Writer, s *Signal, enc WAVEncoding) error {
	if err := writeWAVTo(w, s, enc); err != nil {
		return &fileError{op: "encode", path: "wav", err: err}
	}
	return nil
}

func writeWAVTo(w io.Writer, s *Signal, enc WAVEncoding) error {
	if s == nil || len(s.Channels) == 0 {
		return fmt.Errorf("no channels")
	}
	if len(s.Channels) > math.MaxUint16 {
		return fmt.Errorf("%d channels, at most 65535", len(s.Channels))
	}
	n := len(s.Channels[0])
	for c, ch := range s.Channels {
		if len(ch) != n {
			return fmt.Errorf("channel %d has %d samples, channel 0 has %d", c, len(ch), n)
		}
	}
	if s.Rate < 1 || s.Rate >= 1<<32 || s.Rate != math.Trunc(s.Rate) {
		return fmt.Errorf("%w: rate %g Hz is not a whole number of Hz in [1, 2^32)", ErrRate, s.Rate)
	}
	var tag uint16
	var width int
	switch enc {
	case WAVFloat32:
		tag, width = waveFloat, 4
	case WAVPCM16:
		tag, width = wavePCM, 2
	default:
		return fmt.Errorf("unknown encoding %v", enc)
	}
	chans := len(s.Channels)
	block := chans * width
	data := uint64(n) * uint64(block)
	if data > maxWAVData {
		return fmt.Errorf("%d bytes of samples, more than a RIFF file holds (4 GiB)", data)
	}
	if enc == WAVPCM16 {
		for c, ch := range s.Channels {
			for i, v := range ch {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("channel %d sample %d is %v: PCM has no code for it", c, i, v)
				}
			}
		}
	}
	le := binary.LittleEndian
	var h [44]byte
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], tag)
	le.PutUint16(h[22:], uint16(chans))
	le.PutUint32(h[24:], uint32(s.Rate))
	le.PutUint32(h[28:], uint32(s.Rate)*uint32(block))
	le.PutUint16(h[32:], uint16(block))
	le.PutUint16(h[34:], uint16(8*width))
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(data))
	buf := make([]byte, 0, wavBufSize)
	buf = append(buf, h[:]...)
	for i := 0; i < n; i++ {
		if len(buf)+block > cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		for _, ch := range s.Channels {
			if enc == WAVFloat32 {
				buf = le.AppendUint32(buf, math.Float32bits(ch[i]))
			} else {
				buf = le.AppendUint16(buf, uint16(pcm16(ch[i])))
			}
		}
	}
	// data is even for both widths, so no pad byte is needed.
	_, err := w.Write(buf)
	return err
}

// pcm16 is the 16-bit code of v: round(v·32768), clamped.
func pcm16(v float32) int16 {
	x := math.Round(float64(v) * 32768)
	return int16(max(-32768, min(32767, x)))
}

// WriteWAV writes s to the file at path with EncodeWAV, through a
// temporary file PATH.tmp renamed into place, so a reader never sees half a
// file. Errors name the path.
func WriteWAV(path string, s *Signal, enc WAVEncoding) (err error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return writeErr(path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = writeWAVTo(f, s, enc); err != nil {
		return writeErr(path, err)
	}
	if err = f.Close(); err != nil {
		return writeErr(path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return writeErr(path, err)
	}
	return nil
}

// writeErr prefixes an error of WriteWAV with the file, unless it names it.
func writeErr(path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) || errors.As(err, &le) {
		return fmt.Errorf("signal: %w", err)
	}
	return &fileError{op: "write", path: path, err: err}
}
