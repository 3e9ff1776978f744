package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mhmstream/mhm/pkg/feature"
)

func TestEnvFallbackAndExplicitFlagWins(t *testing.T) {
	t.Setenv("MHM_BROKERS", "k1:9092,k2:9092")
	t.Setenv("MHM_GROUP", "from-env")
	fs := NewFlagSet("x", "x", "", io.Discard)
	brokers := fs.String("brokers", "127.0.0.1:9092", "seed brokers")
	group := fs.String("group", "mhm", "consumer group")
	fs.BindAllEnv()
	if err := fs.Parse([]string{"--group", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if *brokers != "k1:9092,k2:9092" || *group != "from-flag" {
		t.Errorf("brokers %q group %q", *brokers, *group)
	}
	if u := fs.Lookup("brokers").Usage; !strings.Contains(u, "(env MHM_BROKERS)") {
		t.Errorf("help does not name the variable: %q", u)
	}
	t.Setenv("MHM_N", "many")
	fs2 := NewFlagSet("y", "y", "", io.Discard)
	fs2.Int("n", 1, "count")
	fs2.BindAllEnv()
	if err := fs2.Parse(nil); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "MHM_N") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestFeatureFlagsPresetAndOverrides(t *testing.T) {
	fs := NewFlagSet("f", "f", "", io.Discard)
	ff := AddFeatureFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	c, err := ff.Config(16000)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash() != feature.DCASE2020().WithDefaults().Hash() {
		t.Errorf("defaults are not the DCASE preset: %+v", c)
	}
	fs = NewFlagSet("f", "f", "", io.Discard)
	ff = AddFeatureFlags(fs)
	if err := fs.Parse([]string{"--preset", "vibration", "--hop", "64"}); err != nil {
		t.Fatal(err)
	}
	c, err = ff.Config(25600)
	if err != nil {
		t.Fatal(err)
	}
	want := feature.Vibration(25600)
	want.STFT.Hop = 64
	if c.Hash() != want.WithDefaults().Hash() {
		t.Errorf("vibration + --hop 64: %+v", c)
	}
	fs = NewFlagSet("f", "f", "", io.Discard)
	ff = AddFeatureFlags(fs)
	fs.Parse([]string{"--preset", "nope"})
	if _, err := ff.Config(16000); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestProgramExitCodes(t *testing.T) {
	p := Program{Name: "p", Summary: "s", Verbs: []Verb{{Name: "ok", Run: func(context.Context, []string, io.Writer, io.Writer) error { return nil }},
		{Name: "bad", Run: func(context.Context, []string, io.Writer, io.Writer) error { return ErrUsage }},
		{Name: "fail", Run: func(context.Context, []string, io.Writer, io.Writer) error { return errors.New("boom") }}}}
	var out, errb bytes.Buffer
	for args, want := range map[string]int{"ok": 0, "bad": 2, "fail": 1, "nope": 2, "--help": 0} {
		if got := p.Main(context.Background(), []string{args}, &out, &errb); got != want {
			t.Errorf("%s: exit %d, want %d", args, got, want)
		}
	}
	if !strings.Contains(errb.String(), "p fail: boom") {
		t.Errorf("stderr %q", errb.String())
	}
}
