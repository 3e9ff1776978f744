package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/mhmstream/mhm/pkg/nn"
)

// progress reports training: a bar redrawn in place on a terminal (epoch,
// loss, validation loss, time left), one plain line per epoch otherwise
// (logs, pipes, CI).
type progress struct {
	w     io.Writer
	tty   bool
	width int
	quiet bool
	start time.Time
	last  time.Time // last redraw of the bar
	ep    nn.EpochStats
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet, start: time.Now(), width: 80}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 40 {
			p.width = cols
		}
	}
	return p
}

// logf prints a line (clearing the bar first on a terminal).
func (p *progress) logf(format string, a ...any) {
	if p.quiet {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, format+"\n", a...)
}

// Epoch reports a finished epoch.
func (p *progress) Epoch(e nn.EpochStats) error {
	p.ep = e
	if p.quiet {
		return nil
	}
	left := timeLeft(e.Elapsed, float64(e.Epoch), float64(e.Epochs))
	if p.tty {
		p.draw(float64(e.Epoch))
		return nil
	}
	val := ""
	if !math.IsNaN(e.ValLoss) {
		val = fmt.Sprintf("  val %.6g", e.ValLoss)
	}
	fmt.Fprintf(p.w, "epoch %*d/%d  train %.6g%s  elapsed %s  left %s\n",
		len(fmt.Sprint(e.Epochs)), e.Epoch, e.Epochs, e.TrainLoss, val, round(e.Elapsed), round(left))
	return nil
}

// Batch reports progress within an epoch (terminal only, at most 10
// redraws a second).
func (p *progress) Batch(epoch, batch, batches int) {
	if p.quiet || !p.tty || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.draw(float64(epoch-1) + float64(batch)/float64(batches))
}

// draw redraws the bar at done epochs (fractional).
func (p *progress) draw(done float64) {
	p.last = time.Now()
	e := p.ep
	epochs := float64(max(e.Epochs, 1))
	elapsed := time.Since(p.start)
	info := fmt.Sprintf(" epoch %d/%d", int(math.Ceil(done)), e.Epochs)
	if e.Epoch > 0 {
		info += fmt.Sprintf("  loss %.4g", e.TrainLoss)
		if !math.IsNaN(e.ValLoss) {
			info += fmt.Sprintf("  val %.4g", e.ValLoss)
		}
	}
	info += "  left " + round(timeLeft(elapsed, done, epochs)).String()
	bar := max(10, p.width-len(info)-4)
	fill := int(float64(bar) * done / epochs)
	fill = min(max(fill, 0), bar)
	fmt.Fprintf(p.w, "\r[%s%s]%s\x1b[K", strings.Repeat("=", fill), strings.Repeat(" ", bar-fill), info)
}

// Done ends the bar.
func (p *progress) Done() {
	if p.tty && !p.quiet {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// timeLeft extrapolates the elapsed time of done out of total units.
func timeLeft(elapsed time.Duration, done, total float64) time.Duration {
	if done <= 0 {
		return 0
	}
	return time.Duration(float64(elapsed) / done * (total - done))
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Minute:
		return d.Round(time.Second)
	case d > time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
