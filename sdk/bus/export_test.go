package bus

import "github.com/giia/events/sdk/spec"

// WithLegacyConsumers makes Consume and EnsureConsumer use one durable
// per subject, as they do on NATS 2.9 servers, whatever the server.
func WithLegacyConsumers() ConsumerOption {
	return func(o *consumerOptions) error {
		o.legacy = true
		return nil
	}
}

// DeadLetterSpareDeliveries exposes spec.DeadLetterSpareDeliveries.
const DeadLetterSpareDeliveries = spec.DeadLetterSpareDeliveries
