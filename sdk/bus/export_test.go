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

// ServerDeliveryMargin is what the server's MaxDeliver adds to the
// consumer's: the deliveries an event may wait for an upgrade and the
// spare ones for failed dead letters.
const ServerDeliveryMargin = spec.VersionWaitDeliveries + spec.DeadLetterSpareDeliveries

// VersionWait exposes versionWait.
var VersionWait = versionWait
