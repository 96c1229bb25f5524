// Package natsconf writes the JetStream configuration of a catalog as the
// JSON files the NATS CLI reads, for operators who provision by hand:
//
//	nats stream add --config stream.json
//	nats stream add --config stream-dead-letters.json
//	nats consumer add GIIA --config consumer-ddmrp.json
//
// The configurations are those of sdk/spec (spec.StreamConfigs,
// spec.ConsumerConfigFor), which sdk/bus's EnsureTopology and the
// services' consumers create, so that a hand-provisioned server is exactly what the services
// would set up themselves. Consumers are NATS 2.10+ multi-filter durables,
// or with Options.Legacy the per-subject durables of a NATS 2.9 server
// (consumer-<durable>.json each).
package natsconf

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/sdk/spec"
)

// The names of the files Generate returns.
const (
	StreamFile            = "stream.json"
	DeadLetterStreamFile  = "stream-dead-letters.json"
	consumerFilePrefix    = "consumer-"
	consumerFileExtension = ".json"
)

// ConsumerFile returns the name of the file of service's durable consumer:
// consumer-<service>.json.
func ConsumerFile(service string) string {
	return consumerFilePrefix + service + consumerFileExtension
}

// Options are the consumer settings a service may give its Consume call
// (bus.WithMaxDeliver, bus.WithAckWait); zero values are the defaults of
// sdk/spec, which the services of this repository use.
type Options struct {
	MaxDeliver int
	AckWait    time.Duration

	// Legacy writes NATS 2.9 consumers: one durable per consumed subject,
	// the ones sdk/bus makes on such a server (spec.LegacyConsumerConfigs).
	Legacy bool
}

// RuntimeCatalog returns the runtime catalog of cat with what the stream and
// consumer set-up read: the stream, the services, and each event's
// subject, version, publisher and consumers (no schemas).
func RuntimeCatalog(cat *catalog.Catalog) *spec.Catalog {
	bc := &spec.Catalog{Stream: spec.Stream{
		Name:             cat.Stream.Name,
		Subjects:         cat.Stream.Subjects,
		Duplicates:       cat.Stream.Duplicates,
		MaxAge:           cat.Stream.MaxAge,
		Replicas:         cat.Stream.Replicas,
		DeadLetterStream: cat.Stream.DeadLetterStream,
		DeadLetterPrefix: cat.Stream.DeadLetterPrefix,
	}}
	for _, s := range cat.Services {
		bc.Services = append(bc.Services, spec.Service{
			Name: s.Name, Description: s.Description, Owner: s.Owner, External: s.External,
		})
	}
	for _, e := range cat.Events {
		bc.Events = append(bc.Events, spec.Event{
			Subject:     e.Subject,
			Version:     e.Version,
			Publisher:   e.Publisher,
			Consumers:   e.Consumers,
			Description: e.Description,
		})
	}
	return bc
}

// Generate returns the configuration files of cat by name: StreamFile,
// DeadLetterStreamFile, and ConsumerFile(service) for every service that
// consumes an event, external ones too (with Legacy, a file per durable). Each is indented JSON ending in a
// newline.
func Generate(cat *catalog.Catalog, opts Options) (map[string][]byte, error) {
	bc := RuntimeCatalog(cat)
	delivery := spec.Delivery{MaxDeliver: opts.MaxDeliver, AckWait: opts.AckWait}
	events, dead := spec.StreamConfigs(bc)
	configs := []namedConfig{{StreamFile, events}, {DeadLetterStreamFile, dead}}
	for _, s := range bc.Services {
		if len(bc.ConsumedBy(s.Name)) == 0 {
			continue
		}
		if opts.Legacy {
			cfgs, err := spec.LegacyConsumerConfigs(bc, s.Name, delivery)
			if err != nil {
				return nil, fmt.Errorf("consumers of %q: %w", s.Name, err)
			}
			for _, cfg := range cfgs {
				configs = append(configs, namedConfig{consumerFilePrefix + cfg.Durable + consumerFileExtension, cfg})
			}
			continue
		}
		cfg, err := spec.ConsumerConfigFor(bc, s.Name, delivery)
		if err != nil {
			return nil, fmt.Errorf("consumer of %q: %w", s.Name, err)
		}
		configs = append(configs, namedConfig{ConsumerFile(s.Name), cfg})
	}

	files := make(map[string][]byte, len(configs))
	for _, c := range configs {
		data, err := json.MarshalIndent(c.v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		files[c.name] = append(data, '\n')
	}
	return files, nil
}

// namedConfig is a configuration and the name of its file.
type namedConfig struct {
	name string
	v    any // a spec.StreamConfig or spec.ConsumerConfig
}
