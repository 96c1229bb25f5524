package bus

import (
	"context"
	"fmt"

	"github.com/giia/events/sdk/spec"
	"github.com/nats-io/nats.go/jetstream"
)

// EnsureTopology creates or updates what the catalog needs on the server:
// the events stream, the dead-letter stream, and the durable consumer of
// every service that consumes an event (external services too). It is
// idempotent; a changed catalog updates what exists. Errors wrap
// ErrTopology.
func EnsureTopology(ctx context.Context, c *Conn, cat *spec.Catalog) error {
	if err := EnsureStream(ctx, c, cat); err != nil {
		return err
	}
	for _, s := range cat.Services {
		if len(cat.ConsumedBy(s.Name)) == 0 {
			continue
		}
		if err := EnsureConsumer(ctx, c, cat, s.Name); err != nil {
			return err
		}
	}
	return nil
}

// EnsureStream creates or updates the events stream of cat.Stream (file
// storage, limits retention) and its dead-letter stream (subjects
// "<prefix>.>", same max age and replicas). Errors wrap ErrTopology.
func EnsureStream(ctx context.Context, c *Conn, cat *spec.Catalog) error {
	if c == nil || cat == nil {
		return fmt.Errorf("%w: nil connection or catalog", ErrInvalidOption)
	}
	events, deadLetters := streamConfigs(cat)
	for _, cfg := range []jetstream.StreamConfig{events, deadLetters} {
		// nats.go asks for the stream's info, then creates or updates it:
		// a refusal of any of the three ends the call at once.
		err := c.whileAllowed(ctx, "$JS.API.STREAM.>", func(ctx context.Context) error {
			_, err := c.js.CreateOrUpdateStream(ctx, cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("%w: stream %q: %w", ErrTopology, cfg.Name, err)
		}
	}
	return nil
}

// EnsureConsumer creates or updates service's durable pull consumer on
// the events stream, named spec.ConsumerName(service) and filtered on the
// subjects the service consumes; on a NATS 2.9 server, which filters on
// one subject only, one durable per subject named
// "<service>-service-<subject with dots as underscores>". The options
// that matter here are WithMaxDeliver and WithAckWait. Errors:
// ErrUnknownService, ErrNotConsumer (the service consumes nothing),
// ErrInvalidOption, ErrTopology.
func EnsureConsumer(ctx context.Context, c *Conn, cat *spec.Catalog, service string, opts ...ConsumerOption) error {
	o, err := newConsumerOptions(opts)
	if err != nil {
		return err
	}
	_, err = ensureConsumers(ctx, c, cat, service, &o)
	return err
}

// boundConsumer is a consumer with the configuration that recreates it.
type boundConsumer struct {
	jetstream.Consumer
	config jetstream.ConsumerConfig
}

// consumerConfigs returns the durables of service: the one of
// ConsumerConfig, or on a server without multi-filter consumers (NATS 2.9)
// or with the legacy option, one per subject.
func consumerConfigs(c *Conn, cat *spec.Catalog, service string, o *consumerOptions) ([]jetstream.ConsumerConfig, error) {
	if c == nil || cat == nil {
		return nil, fmt.Errorf("%w: nil connection or catalog", ErrInvalidOption)
	}
	cfg, err := consumerConfig(cat, service, o)
	if err != nil {
		return nil, err
	}
	if !o.legacy && c.supportsMultiFilter() {
		return []jetstream.ConsumerConfig{jsConsumerConfig(cfg)}, nil
	}
	legacy := spec.PerSubject(cfg, service)
	configs := make([]jetstream.ConsumerConfig, len(legacy))
	for i, l := range legacy {
		configs[i] = jsConsumerConfig(l)
	}
	return configs, nil
}

func ensureConsumers(ctx context.Context, c *Conn, cat *spec.Catalog, service string, o *consumerOptions) ([]boundConsumer, error) {
	configs, err := consumerConfigs(c, cat, service, o)
	if err != nil {
		return nil, err
	}
	out := make([]boundConsumer, 0, len(configs))
	for _, cfg := range configs {
		var cons jetstream.Consumer
		err := c.whileAllowed(ctx, consumerCreateSubject(cat.Stream.Name, cfg), func(ctx context.Context) (err error) {
			cons, err = c.js.CreateOrUpdateConsumer(ctx, cat.Stream.Name, cfg)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%w: consumer %q on stream %q: %w", ErrTopology, cfg.Durable, cat.Stream.Name, err)
		}
		out = append(out, boundConsumer{Consumer: cons, config: cfg})
	}
	return out, nil
}

// consumerCreateSubject is the JetStream API subject on which nats.go
// creates or updates the durable of cfg on stream.
func consumerCreateSubject(stream string, cfg jetstream.ConsumerConfig) string {
	subject := "$JS.API.CONSUMER.CREATE." + stream + "." + cfg.Durable
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) == 0 {
		subject += "." + cfg.FilterSubject
	}
	return subject
}
