package bus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/spec"
)

// topologyCatalog has two consumers, one of them external, and leaves the
// dead-letter names to their defaults.
func topologyCatalog(prefix string) *spec.Catalog {
	return &spec.Catalog{
		Stream: spec.Stream{
			Name:       prefix + "EVENTS",
			Subjects:   []string{prefix + "a.>", prefix + "b.>"},
			Duplicates: time.Minute,
			MaxAge:     time.Hour,
			Replicas:   1,
		},
		Services: []spec.Service{{Name: "a"}, {Name: "b"}, {Name: "x", External: true}},
		Events: []spec.Event{
			{Subject: prefix + "a.thing.created", Publisher: "a", Consumers: []string{"b", "x"}},
			{Subject: prefix + "b.thing.changed", Publisher: "b", Consumers: []string{"x"}},
		},
	}
}

// TestTopologyConfigsMatchEnsure: the exported configurations are exactly
// what EnsureTopology and EnsureConsumer create, so that `eventgen nats`
// provisions what the services would.
func TestTopologyConfigsMatchEnsure(t *testing.T) {
	srv := bustest.RunServer(t)
	c, err := Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	prefix := "tc" + time.Now().Format("150405000") + "_"
	cat := topologyCatalog(prefix)
	events, dead := streamConfigs(cat)
	assert.Equal(t, prefix+"EVENTS"+spec.DefaultDeadLetterStreamSuffix, dead.Name)
	assert.Equal(t, []string{spec.DefaultDeadLetterPrefix + ".>"}, dead.Subjects)
	if srv.External() {
		// On a shared server the default dead-letter subjects may belong
		// to another stream (the platform's own, say).
		cat.Stream.DeadLetterStream = prefix + "DEAD_LETTERS"
		cat.Stream.DeadLetterPrefix = prefix + "deadletter"
		events, dead = streamConfigs(cat)
	}
	t.Cleanup(func() {
		_ = c.js.DeleteStream(context.Background(), events.Name)
		_ = c.js.DeleteStream(context.Background(), dead.Name)
	})
	require.NoError(t, EnsureTopology(ctx, c, cat))

	for _, want := range []jetstream.StreamConfig{events, dead} {
		s, err := c.js.Stream(ctx, want.Name)
		require.NoError(t, err)
		got := s.CachedInfo().Config
		assert.Equal(t, want.Subjects, got.Subjects)
		assert.Equal(t, want.Description, got.Description)
		assert.Equal(t, want.MaxAge, got.MaxAge)
		assert.Equal(t, want.Duplicates, got.Duplicates)
		assert.Equal(t, want.Replicas, got.Replicas)
		assert.Equal(t, want.Storage, got.Storage)
		assert.Equal(t, want.Retention, got.Retention)
		assert.Equal(t, want.Discard, got.Discard)
	}

	multi := c.supportsMultiFilter()
	for _, svc := range []string{"b", "x"} {
		for _, tc := range []struct {
			opts     []ConsumerOption
			delivery spec.Delivery
		}{{nil, spec.Delivery{}}, {[]ConsumerOption{WithMaxDeliver(2), WithAckWait(time.Second)}, spec.Delivery{MaxDeliver: 2, AckWait: time.Second}}} {
			opts := tc.opts
			exportedMulti, err := spec.ConsumerConfigFor(cat, svc, tc.delivery)
			require.NoError(t, err)
			want := jsConsumerConfig(exportedMulti)
			exportedLegacy, err := spec.LegacyConsumerConfigs(cat, svc, tc.delivery)
			require.NoError(t, err)
			var exported []jetstream.ConsumerConfig
			for _, c := range exportedLegacy {
				exported = append(exported, jsConsumerConfig(c))
			}
			o, err := newConsumerOptions(opts)
			require.NoError(t, err)
			internal, err := consumerConfigs(c, cat, svc, &o)
			require.NoError(t, err)
			if multi {
				require.Len(t, internal, 1)
				assert.Equal(t, want, internal[0], "the runtime's and the exported configuration differ")
				// What the runtime makes for a 2.9 server is the exported
				// 2.9 configuration.
				o.legacy = true
				legacy, err := consumerConfigs(c, cat, svc, &o)
				require.NoError(t, err)
				assert.Equal(t, legacy, exported)
				require.Len(t, exported, len(want.FilterSubjects))
				assert.Equal(t, want.FilterSubjects[0], exported[0].FilterSubject)
				assert.Empty(t, exported[0].FilterSubjects)
			} else {
				// NATS 2.9: the exported configuration split per subject.
				assert.Equal(t, exported, internal, "the runtime's and the exported 2.9 configurations differ")
				require.Len(t, internal, len(want.FilterSubjects))
				for i, subject := range want.FilterSubjects {
					legacy := want
					legacy.Durable = spec.ConsumerName(svc) + "-" + strings.ReplaceAll(subject, ".", "_")
					legacy.FilterSubject, legacy.FilterSubjects = subject, nil
					assert.Equal(t, legacy, internal[i])
				}
			}
			require.NoError(t, EnsureConsumer(ctx, c, cat, svc, opts...))
			for _, cfg := range internal {
				cons, err := c.js.Consumer(ctx, cat.Stream.Name, cfg.Durable)
				require.NoError(t, err)
				got := cons.CachedInfo().Config
				assert.Equal(t, cfg.FilterSubject, got.FilterSubject)
				assert.Equal(t, cfg.FilterSubjects, got.FilterSubjects)
				assert.Equal(t, cfg.MaxDeliver, got.MaxDeliver)
				assert.Equal(t, cfg.AckWait, got.AckWait)
				assert.Equal(t, cfg.AckPolicy, got.AckPolicy)
				assert.Equal(t, cfg.DeliverPolicy, got.DeliverPolicy)
				assert.Equal(t, cfg.Description, got.Description)
			}
		}
	}
}

func TestConsumerConfigErrors(t *testing.T) {
	cat := topologyCatalog("")
	o, err := newConsumerOptions(nil)
	require.NoError(t, err)
	_, err = consumerConfig(cat, "nobody", &o)
	assert.ErrorIs(t, err, ErrUnknownService)
	_, err = consumerConfig(cat, "a", &o)
	assert.ErrorIs(t, err, ErrNotConsumer)
	err = EnsureConsumer(context.Background(), nil, cat, "b")
	assert.ErrorIs(t, err, ErrInvalidOption)
	err = EnsureConsumer(context.Background(), nil, cat, "b", WithMaxDeliver(0))
	assert.True(t, errors.Is(err, ErrInvalidOption), "%v", err)

	cfg, err := consumerConfig(cat, "x", &o)
	require.NoError(t, err)
	assert.Equal(t, "x-service", cfg.Durable)
	assert.Equal(t, []string{"a.thing.created", "b.thing.changed"}, cfg.FilterSubjects)
	assert.Equal(t, DefaultMaxDeliver+spec.VersionWaitDeliveries+spec.DeadLetterSpareDeliveries, cfg.MaxDeliver)
	assert.Equal(t, DefaultAckWait, cfg.AckWait)

	cat.Stream.Replicas = 0
	ev, _ := streamConfigs(cat)
	assert.Equal(t, 1, ev.Replicas, "replicas default to 1")
}
