package train

import (
	"runtime/debug"

	"github.com/mhmstream/mhm/internal/cli"
)

// Program returns the train program with its verbs.
func Program() cli.Program {
	return cli.Program{
		Name:    "train",
		Summary: "fit per-machine anomaly models on healthy recordings, learn thresholds, evaluate them",
		Verbs:   []cli.Verb{FitVerb(), ScoreVerb(), EvalVerb(), TimelineVerb(), InspectVerb()},
	}
}

// toolName identifies the program that wrote an artifact: "mhm train" with
// the module version and VCS revision when the build records them.
func toolName() string {
	name := "mhm train"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return name
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		name += " " + v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			name += " " + s.Value[:12]
		}
	}
	return name + " (" + bi.GoVersion + ")"
}
