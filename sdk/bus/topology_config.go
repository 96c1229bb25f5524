package bus

import (
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamConfigs returns the configuration of the events stream of cat and
// of its dead-letter stream, as EnsureStream creates them. Marshalled with
// encoding/json, each is the server's stream configuration, which
// `nats stream add --config FILE` accepts.
func StreamConfigs(cat *Catalog) (events, deadLetters jetstream.StreamConfig) {
	replicas := max(cat.Stream.Replicas, 1)
	dlStream, dlPrefix := deadLetter(cat)
	events = jetstream.StreamConfig{
		Name:        cat.Stream.Name,
		Description: "GIIA events (managed by sdk/bus)",
		Subjects:    cat.Stream.Subjects,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cat.Stream.MaxAge,
		Duplicates:  cat.Stream.Duplicates,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}
	deadLetters = jetstream.StreamConfig{
		Name:        dlStream,
		Description: "GIIA dead letters of " + cat.Stream.Name + " (managed by sdk/bus)",
		Subjects:    []string{dlPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cat.Stream.MaxAge,
		Duplicates:  cat.Stream.Duplicates,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}
	return events, deadLetters
}

// ConsumerConfig returns the configuration of service's durable pull
// consumer on the events stream of a NATS 2.10+ server (one durable,
// ConsumerName(service), filtering every subject the service consumes), as
// EnsureConsumer and Consume create it with the same options; only
// WithMaxDeliver and WithAckWait change it. Marshalled with encoding/json
// it is the server's consumer configuration, which
// `nats consumer add STREAM --config FILE` accepts. Errors:
// ErrUnknownService, ErrNotConsumer, ErrInvalidOption.
func ConsumerConfig(cat *Catalog, service string, opts ...ConsumerOption) (jetstream.ConsumerConfig, error) {
	o, err := newConsumerOptions(opts)
	if err != nil {
		return jetstream.ConsumerConfig{}, err
	}
	if cat == nil {
		return jetstream.ConsumerConfig{}, fmt.Errorf("%w: nil catalog", ErrInvalidOption)
	}
	return consumerConfig(cat, service, &o)
}

// LegacyConsumerConfigs returns the durables of service on a NATS 2.9
// server, which filters a consumer on one subject only: ConsumerConfig
// split into one durable per subject ("<service>-service-<subject with
// dots as underscores>"), as EnsureConsumer and Consume create them there.
// Errors: those of ConsumerConfig.
func LegacyConsumerConfigs(cat *Catalog, service string, opts ...ConsumerOption) ([]jetstream.ConsumerConfig, error) {
	cfg, err := ConsumerConfig(cat, service, opts...)
	if err != nil {
		return nil, err
	}
	return perSubject(cfg, service), nil
}

// perSubject splits a multi-filter consumer configuration of service into
// one durable per subject.
func perSubject(cfg jetstream.ConsumerConfig, service string) []jetstream.ConsumerConfig {
	subjects := cfg.FilterSubjects
	cfg.FilterSubjects = nil
	configs := make([]jetstream.ConsumerConfig, len(subjects))
	for i, s := range subjects {
		configs[i] = cfg
		configs[i].Durable = legacyConsumerName(service, s)
		configs[i].FilterSubject = s
	}
	return configs
}

// consumerConfig is ConsumerConfig with the options applied.
func consumerConfig(cat *Catalog, service string, o *consumerOptions) (jetstream.ConsumerConfig, error) {
	if _, ok := cat.Service(service); !ok {
		return jetstream.ConsumerConfig{}, fmt.Errorf("%w: %q", ErrUnknownService, service)
	}
	subjects := cat.ConsumedBy(service)
	if len(subjects) == 0 {
		return jetstream.ConsumerConfig{}, fmt.Errorf("%w: %q consumes no event", ErrNotConsumer, service)
	}
	return jetstream.ConsumerConfig{
		Durable:        ConsumerName(service),
		Description:    "GIIA events consumed by " + service + " (managed by sdk/bus)",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        o.ackWait,
		MaxDeliver:     o.maxDeliver + deadLetterSpareDeliveries,
		FilterSubjects: subjects,
	}, nil
}
