package bus

import (
	"github.com/giia/events/sdk/spec"
	"github.com/nats-io/nats.go/jetstream"
)

// The stream and consumer configurations are spec's (spec.StreamConfigs,
// spec.ConsumerConfigFor), which eventgen also writes for operators; this
// file only turns them into nats.go's types.

// streamConfigs returns spec.StreamConfigs(cat) as nats.go's types.
func streamConfigs(cat *spec.Catalog) (events, deadLetters jetstream.StreamConfig) {
	e, d := spec.StreamConfigs(cat)
	return jsStreamConfig(e), jsStreamConfig(d)
}

func jsStreamConfig(c spec.StreamConfig) jetstream.StreamConfig {
	// spec names the policies as the server's JSON does ("limits", "old",
	// "file"); the platform uses only these.
	return jetstream.StreamConfig{
		Name:        c.Name,
		Description: c.Description,
		Subjects:    c.Subjects,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.MaxAge,
		Duplicates:  c.Duplicates,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// consumerConfig returns spec.ConsumerConfigFor with the options applied.
func consumerConfig(cat *spec.Catalog, service string, o *consumerOptions) (spec.ConsumerConfig, error) {
	return spec.ConsumerConfigFor(cat, service, spec.Delivery{MaxDeliver: o.maxDeliver, AckWait: o.ackWait})
}

func jsConsumerConfig(c spec.ConsumerConfig) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        c.Durable,
		Description:    c.Description,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckWait,
		MaxDeliver:     c.MaxDeliver,
		FilterSubject:  c.FilterSubject,
		FilterSubjects: c.FilterSubjects,
	}
}
