package stream

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NewLogger returns a zerolog JSON logger writing to w at level (trace,
// debug, info, warn, error), with a timestamp on every line.
func NewLogger(w io.Writer, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("%w: log level %q", ErrConfig, level)
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// KgoLogger adapts a zerolog.Logger to kgo.Logger (what franz-go's
// plugin/kzerolog does): kgo's level follows the zerolog level, kgo's
// key-value pairs become fields and every line carries "component":"kgo".
type KgoLogger struct{ L zerolog.Logger }

var _ kgo.Logger = KgoLogger{}

// Level maps the zerolog level to kgo's: trace and debug → debug, info →
// info, warn → warn, error and above → error, disabled → none.
func (k KgoLogger) Level() kgo.LogLevel {
	switch lvl := k.L.GetLevel(); {
	case lvl <= zerolog.DebugLevel:
		return kgo.LogLevelDebug
	case lvl == zerolog.InfoLevel:
		return kgo.LogLevelInfo
	case lvl == zerolog.WarnLevel:
		return kgo.LogLevelWarn
	case lvl == zerolog.Disabled:
		return kgo.LogLevelNone
	default:
		return kgo.LogLevelError
	}
}

// Log writes one kgo log line.
func (k KgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var ev *zerolog.Event
	switch level {
	case kgo.LogLevelError:
		ev = k.L.Error()
	case kgo.LogLevelWarn:
		ev = k.L.Warn()
	case kgo.LogLevelInfo:
		ev = k.L.Info()
	case kgo.LogLevelDebug:
		ev = k.L.Debug()
	default:
		return
	}
	ev = ev.Str("component", "kgo")
	for i := 0; i+1 < len(keyvals); i += 2 {
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		ev = ev.Interface(key, keyvals[i+1])
	}
	ev.Msg(msg)
}
