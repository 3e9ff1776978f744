package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name              string
	Partitions        int32              // >= 1
	ReplicationFactor int16              // -1 = the broker's default
	Configs           map[string]*string // topic configs, e.g. cleanup.policy
}

// TopicSpecs returns the specs of every non-empty topic in t with the given
// partitions and replication factor. Models is compacted
// (cleanup.policy=compact: the latest artifact per machine key is kept); the
// others use the broker's retention defaults.
func TopicSpecs(t Topics, partitions int32, replication int16) []TopicSpec {
	compact := "compact"
	var specs []TopicSpec
	for _, name := range []string{t.Raw, t.Patches, t.Anomalies, t.Scores, t.DLQ} {
		if name != "" {
			specs = append(specs, TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: replication})
		}
	}
	if t.Models != "" {
		specs = append(specs, TopicSpec{Name: t.Models, Partitions: partitions, ReplicationFactor: replication,
			Configs: map[string]*string{"cleanup.policy": &compact}})
	}
	return specs
}

// EnsureTopics creates the topics that do not exist yet and returns the names
// it created. A topic that already exists is left as it is (its partition
// count and configs are not changed). The error joins every failure.
func EnsureTopics(ctx context.Context, adm *kadm.Client, specs ...TopicSpec) ([]string, error) {
	var created []string
	var errs []error
	for _, s := range specs {
		if s.Partitions < 1 {
			errs = append(errs, fmt.Errorf("%w: topic %s: %d partitions", ErrConfig, s.Name, s.Partitions))
			continue
		}
		r, err := adm.CreateTopic(ctx, s.Partitions, s.ReplicationFactor, s.Configs, s.Name)
		if err == nil {
			err = r.Err
		}
		switch {
		case err == nil:
			created = append(created, s.Name)
		case errors.Is(err, kerr.TopicAlreadyExists):
		default:
			errs = append(errs, fmt.Errorf("stream: create topic %s: %w", s.Name, err))
		}
	}
	return created, errors.Join(errs...)
}
