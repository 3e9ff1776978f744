package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mhmstream/mhm/internal/app/train"
)

// fitModel trains a model by running `train fit` with args, exactly as a
// user would on the command line, and returns what it printed on stdout
// (the model, its threshold, the artifact). Its per-epoch progress lines
// are passed to progress every `every` epochs (and the last one).
func fitModel(ctx context.Context, args []string, progress func(string), every int) (string, error) {
	var stdout bytes.Buffer
	lw := &lineFilter{fn: func(line string) {
		if !strings.HasPrefix(line, "epoch ") {
			return
		}
		var e, n int
		if _, err := fmt.Sscanf(line, "epoch %d/%d", &e, &n); err == nil && (e%every == 0 || e == n) {
			progress(line)
		}
	}}
	err := train.FitVerb().Run(ctx, args, &stdout, lw)
	lw.flush()
	if err != nil {
		return "", fmt.Errorf("train fit %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(lw.all.String()))
	}
	return stdout.String(), nil
}

// lineFilter is a writer that calls fn with every complete line and keeps
// everything written (for the error message).
type lineFilter struct {
	fn  func(string)
	buf []byte
	all bytes.Buffer
}

var _ io.Writer = (*lineFilter)(nil)

func (l *lineFilter) Write(p []byte) (int, error) {
	l.all.Write(p)
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexAny(l.buf, "\n\r")
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.fn(line)
		}
		l.buf = l.buf[i+1:]
	}
}

func (l *lineFilter) flush() {
	if line := strings.TrimSpace(string(l.buf)); line != "" {
		l.fn(line)
	}
	l.buf = nil
}

// fitSummary condenses train fit's three result lines into one:
// parameters, epochs, time and the threshold.
func fitSummary(out string, took time.Duration) string {
	var model, th string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "trained "):
			// trained dense-ae (26520 parameters) for 10 epochs in 3.2s: loss ...
			if i := strings.Index(line, ":"); i > 0 {
				model = strings.TrimPrefix(line[:i], "trained ")
			}
		case strings.HasPrefix(line, "threshold "):
			// threshold mean-std(k=4) = 0.86 (n=40, ...) on 40 calibration windows (...)
			if i := strings.Index(line, " ("); i > 0 {
				th = line[:i]
			}
		}
	}
	return fmt.Sprintf("%s; %s; %.1f s", model, th, took.Seconds())
}
