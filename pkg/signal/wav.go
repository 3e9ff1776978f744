package signal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
)

// WAVE format tags (fmt chunk wFormatTag) and the sub-format of WAVE_FORMAT_EXTENSIBLE.
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveExtensible = 0xFFFE
)

// ksdataformatSubtype GUIDs are the format tag in the first two bytes (little-endian)
// followed by these 14 bytes (mmreg.h: KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT).
var guidTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

var waveNames = map[uint16]string{
	0x0002: "Microsoft ADPCM", 0x0006: "A-law", 0x0007: "µ-law", 0x0011: "IMA ADPCM",
	0x0031: "GSM 6.10", 0x0050: "MPEG", 0x0055: "MPEG layer 3", 0x2000: "AC-3",
}

// wavBufSize is the read buffer for sample data: big reads, no per-sample allocation.
const wavBufSize = 64 << 10

// wavFormat is the decoded fmt chunk.
type wavFormat struct {
	tag      uint16 // wavePCM or waveFloat after resolving WAVE_FORMAT_EXTENSIBLE
	channels int
	rate     uint32
	bits     int // container bits per sample
	block    int // bytes per frame
}

// ReadWAV reads a RIFF/WAVE file.
//
// Supported: PCM with 8 (unsigned), 16, 24 or 32-bit samples, IEEE float with 32 or
// 64-bit samples, given as WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT or
// WAVE_FORMAT_EXTENSIBLE with the PCM or IEEE-float sub-format, any number of channels.
// Chunks other than fmt and data are skipped.
//
// Integers are scaled to [-1, 1) by x / 2^(bits-1) (8-bit: (u-128)/128), so full scale
// is -1 and the largest positive code is 1-2^(1-bits). This is the convention of
// soundfile/libsndfile and of the AES17 definition of full scale; Python's wave +
// x/32767 (as shared/bench/dcase_ae.py does for 16-bit) gives values larger by
// 32768/32767, 1 + 3.05e-5, a constant gain of 2.65e-4 dB. When WAVE_FORMAT_EXTENSIBLE
// declares fewer valid bits than the container (e.g. 20 in 24), the samples are
// left-justified, so the same container scaling applies. Floats are passed through
// (float64 rounded to float32).
//
// The returned Signal has Names nil and StartNs 0. ReadWAV reads the file in 64 KiB
// blocks and allocates only the channels (4 bytes per sample) and the block buffer.
func ReadWAV(path string) (*Signal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	defer f.Close()
	s, err := decodeWAV(f, fileSize(f))
	if err != nil {
		return nil, fileErr(path, err)
	}
	return s, nil
}

// DecodeWAV decodes a RIFF/WAVE stream from r, as ReadWAV does for a file. Without a
// known size it cannot check a data chunk's length before reading it, so it grows the
// channels as data arrive instead of allocating them at once.
func DecodeWAV(r io.Reader) (*Signal, error) {
	s, err := decodeWAV(r, -1)
	if err != nil {
		return nil, decodeErr("wav", err)
	}
	return s, nil
}

func decodeWAV(r io.Reader, size int64) (*Signal, error) {
	br := bufio.NewReaderSize(r, wavBufSize)
	var hdr [12]byte
	n, err := io.ReadFull(br, hdr[:])
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil, errf(ErrEmpty, "empty file (0 bytes)")
	case err != nil && !isEOF(err):
		return nil, err
	}
	switch id := string(hdr[:4]); {
	case id == "RF64" || id == "BW64":
		return nil, errf(ErrUnsupported, "%s (64-bit RIFF) files are not supported", id)
	case id == "RIFX":
		return nil, errf(ErrUnsupported, "RIFX (big-endian RIFF) files are not supported")
	case id != "RIFF":
		return nil, errf(ErrFormat, "not a RIFF/WAVE file: starts with %q", printable(hdr[:min(n, 4)]))
	case n < 12:
		return nil, errf(ErrTruncated, "RIFF header cut short: 12 bytes needed, file has %d", n)
	case string(hdr[8:12]) != "WAVE":
		return nil, errf(ErrFormat, "RIFF file of type %q, not WAVE", printable(hdr[8:12]))
	}

	var (
		fmtc   *wavFormat
		offset int64 = 12
		ch     [8]byte
	)
	for {
		n, err := io.ReadFull(br, ch[:])
		if n == 0 && err == io.EOF {
			if fmtc == nil {
				return nil, errf(ErrFormat, "no fmt chunk")
			}
			return nil, errf(ErrFormat, "no data chunk")
		}
		if err != nil {
			if isEOF(err) {
				return nil, errf(ErrTruncated, "chunk header at byte %d cut short: 8 bytes needed, file has %d", offset, n)
			}
			return nil, err
		}
		id := string(ch[:4])
		csize := int64(binary.LittleEndian.Uint32(ch[4:]))
		offset += 8
		switch id {
		case "fmt ":
			if csize < 16 || csize > 1<<16 {
				return nil, errf(ErrFormat, "fmt chunk of %d bytes: want 16 to 65536", csize)
			}
			b := make([]byte, csize+csize&1)
			if m, err := io.ReadFull(br, b); err != nil {
				if isEOF(err) && int64(m) < csize {
					return nil, errf(ErrTruncated, "truncated fmt chunk: header says %d bytes, file has %d", csize, m)
				} else if !isEOF(err) {
					return nil, err
				}
			}
			if fmtc, err = parseWAVFormat(b[:csize]); err != nil {
				return nil, err
			}
		case "data":
			if fmtc == nil {
				return nil, errf(ErrFormat, "data chunk before fmt chunk")
			}
			return readWAVData(br, fmtc, csize, size-offset, size >= 0)
		default:
			skip := csize + csize&1
			m, err := io.CopyN(io.Discard, br, skip)
			if err != nil {
				if isEOF(err) {
					if m >= csize { // only the pad byte is missing
						break
					}
					return nil, errf(ErrTruncated, "truncated %q chunk: header says %d bytes, file has %d", printable(ch[:4]), csize, m)
				}
				return nil, err
			}
		}
		offset += csize + csize&1
	}
}

func parseWAVFormat(b []byte) (*wavFormat, error) {
	le := binary.LittleEndian
	f := &wavFormat{
		tag:      le.Uint16(b[0:]),
		channels: int(le.Uint16(b[2:])),
		rate:     le.Uint32(b[4:]),
		block:    int(le.Uint16(b[12:])),
		bits:     int(le.Uint16(b[14:])),
	}
	if f.tag == waveExtensible {
		if len(b) < 40 || le.Uint16(b[16:]) < 22 {
			return nil, errf(ErrFormat, "WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes: want 40", len(b))
		}
		guid := b[24:40]
		if !bytes.Equal(guid[2:], guidTail) {
			return nil, errf(ErrUnsupported, "WAVE_FORMAT_EXTENSIBLE sub-format %x is neither PCM nor IEEE float", guid)
		}
		f.tag = le.Uint16(guid)
		if valid := int(le.Uint16(b[18:])); valid > f.bits {
			return nil, errf(ErrFormat, "%d valid bits in a %d-bit container", valid, f.bits)
		}
	}
	switch f.tag {
	case wavePCM:
		if f.bits != 8 && f.bits != 16 && f.bits != 24 && f.bits != 32 {
			return nil, errf(ErrUnsupported, "%d-bit PCM: want 8, 16, 24 or 32 bits", f.bits)
		}
	case waveFloat:
		if f.bits != 32 && f.bits != 64 {
			return nil, errf(ErrUnsupported, "%d-bit IEEE float: want 32 or 64 bits", f.bits)
		}
	default:
		name := waveNames[f.tag]
		if name == "" {
			name = "unknown"
		}
		return nil, errf(ErrUnsupported, "audio format 0x%04X (%s): only PCM and IEEE float are read", f.tag, name)
	}
	if f.channels == 0 {
		return nil, errf(ErrFormat, "fmt chunk says 0 channels")
	}
	if f.rate == 0 {
		return nil, errf(ErrFormat, "fmt chunk says sample rate 0")
	}
	if want := f.channels * f.bits / 8; f.block != want {
		return nil, errf(ErrFormat, "fmt chunk says %d bytes per frame, %d channels of %d bits need %d", f.block, f.channels, f.bits, want)
	}
	return f, nil
}

// readWAVData reads the data chunk of csize bytes (0xFFFFFFFF: up to the end, as written
// by streaming encoders). left is what remains of the file after the chunk header when
// known is true.
func readWAVData(r io.Reader, f *wavFormat, csize, left int64, known bool) (*Signal, error) {
	toEnd := csize == 0xFFFFFFFF
	if toEnd && known {
		csize, toEnd = left-left%int64(f.block), false
	}
	if !toEnd {
		if csize == 0 {
			return nil, errf(ErrEmpty, "data chunk holds no samples")
		}
		if known && left < csize {
			return nil, errf(ErrTruncated, "truncated data chunk: header says %d bytes, file has %d", csize, left)
		}
		if csize%int64(f.block) != 0 {
			return nil, errf(ErrFormat, "data chunk of %d bytes is not a whole number of %d-byte frames", csize, f.block)
		}
	}
	s := &Signal{Rate: float64(f.rate), Channels: make([][]float32, f.channels)}
	frames := csize / int64(f.block)
	capacity := frames
	if !known || toEnd {
		capacity = min(frames, 1<<16) // grow as the data prove to exist
	}
	for c := range s.Channels {
		s.Channels[c] = make([]float32, 0, capacity)
	}
	buf := make([]byte, (wavBufSize/f.block)*f.block)
	var got int64
	for toEnd || got < csize {
		want := int64(len(buf))
		if !toEnd {
			want = min(want, csize-got)
		}
		n, err := io.ReadFull(r, buf[:want])
		whole := n - n%f.block // a partial last frame is dropped (to the end) or an error
		decodeFrames(s.Channels, buf[:whole], f)
		got += int64(n)
		if err != nil {
			if !isEOF(err) {
				return nil, err
			}
			if toEnd {
				break
			}
			return nil, errf(ErrTruncated, "truncated data chunk: header says %d bytes, file has %d", csize, got)
		}
	}
	if s.Len() == 0 {
		return nil, errf(ErrEmpty, "data chunk holds no samples")
	}
	return s, nil
}

// decodeFrames appends the interleaved frames in b to chans.
func decodeFrames(chans [][]float32, b []byte, f *wavFormat) {
	nch := len(chans)
	frames := len(b) / f.block
	if frames == 0 {
		return
	}
	start := len(chans[0])
	for c := range chans {
		chans[c] = grow(chans[c], frames)
	}
	le := binary.LittleEndian
	switch {
	case f.tag == wavePCM && f.bits == 16:
		const k = 1.0 / (1 << 15)
		if nch == 1 {
			out := chans[0][start : start+frames]
			for i := range out {
				out[i] = float32(int16(le.Uint16(b[2*i:]))) * k
			}
			return
		}
		for c, ch := range chans {
			out := ch[start : start+frames]
			for i, p := 0, 2*c; i < len(out); i, p = i+1, p+f.block {
				out[i] = float32(int16(le.Uint16(b[p:]))) * k
			}
		}
	case f.tag == wavePCM && f.bits == 24:
		const k = 1.0 / (1 << 23)
		for c, ch := range chans {
			out := ch[start : start+frames]
			for i, p := 0, 3*c; i < len(out); i, p = i+1, p+f.block {
				v := int32(uint32(b[p])<<8|uint32(b[p+1])<<16|uint32(b[p+2])<<24) >> 8
				out[i] = float32(v) * k
			}
		}
	case f.tag == wavePCM && f.bits == 32:
		const k = 1.0 / (1 << 31)
		for c, ch := range chans {
			out := ch[start : start+frames]
			for i, p := 0, 4*c; i < len(out); i, p = i+1, p+f.block {
				out[i] = float32(int32(le.Uint32(b[p:]))) * k
			}
		}
	case f.tag == wavePCM && f.bits == 8:
		const k = 1.0 / (1 << 7)
		for c, ch := range chans {
			out := ch[start : start+frames]
			for i, p := 0, c; i < len(out); i, p = i+1, p+f.block {
				out[i] = float32(int(b[p])-128) * k
			}
		}
	case f.tag == waveFloat && f.bits == 32:
		for c, ch := range chans {
			out := ch[start : start+frames]
			for i, p := 0, 4*c; i < len(out); i, p = i+1, p+f.block {
				out[i] = math.Float32frombits(le.Uint32(b[p:]))
			}
		}
	case f.tag == waveFloat && f.bits == 64:
		for c, ch := range chans {
			out := ch[start : start+frames]
			for i, p := 0, 8*c; i < len(out); i, p = i+1, p+f.block {
				out[i] = float32(math.Float64frombits(le.Uint64(b[p:])))
			}
		}
	default:
		panic("signal: unreachable WAV sample format") // parseWAVFormat rejects the rest
	}
}

// grow extends s by n elements, reallocating (doubling) only when the capacity is short.
func grow(s []float32, n int) []float32 {
	if len(s)+n <= cap(s) {
		return s[:len(s)+n]
	}
	t := make([]float32, len(s)+n, max(2*cap(s), len(s)+n))
	copy(t, s)
	return t
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }

// printable returns b with non-printable bytes replaced by '.', for error messages.
func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}
