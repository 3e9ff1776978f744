package signal_test

import (
	"fmt"
	"path/filepath"

	"github.com/mhmstream/mhm/pkg/signal"
)

// Read a FEMTO snapshot: the format is found from the name acc_*.csv, the rate is
// FEMTO's 25.6 kHz and the start time comes from the first row (09:05:07.123456).
func ExampleRead() {
	s, err := signal.Read("../../testdata/signal/acc_00002.good.csv", signal.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Rate, s.NumChannels(), s.Len(), s.Names, s.Duration(), s.StartNs)
	fmt.Println(s.Channel(s.ChannelIndex("vertical"))[:3])
	// Output:
	// 25600 2 16 [horizontal vertical] 625µs 32707123456000
	// [-0.079 0.77 -0.613]
}

// Pick the drive-end accelerometer of a CWRU file by the end of its variable name; the
// rate comes from the file name (48k_...).
func ExampleRead_cwru() {
	s, err := signal.Read("../../testdata/signal/48k_cwru_like.good.mat", signal.Options{Variable: "_DE_time"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Rate, s.Names, s.Len())
	// Output:
	// 48000 [X097_DE_time] 120
}

// Errors name the file and what is wrong, and wrap a sentinel.
func ExampleRead_error() {
	_, err := signal.Read("../../testdata/signal/truncated_data.bad.wav", signal.Options{})
	fmt.Println(err)
	// Output:
	// signal: read ../../testdata/signal/truncated_data.bad.wav: truncated data chunk: header says 320000 bytes, file has 1200
}

// Expand a glob in natural order.
func ExampleExpand() {
	files, err := signal.Expand([]string{"../../testdata/signal/acc_*.good.csv"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	// Output:
	// acc_00001.good.csv
	// acc_00002.good.csv
}
