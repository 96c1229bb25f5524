package spec

import (
	"fmt"
	"time"
)

// Defaults of a consumer's delivery settings.
const (
	DefaultMaxDeliver = 5
	DefaultAckWait    = 30 * time.Second
)

// DeadLetterSpareDeliveries is added to MaxDeliver in the server's
// consumer configuration. The runtime itself stops calling the handler at
// MaxDeliver and dead-letters the message; the spare deliveries are there
// so that a message whose dead letter could not be stored (dead-letter
// stream unavailable) is delivered again to retry, instead of being
// stranded by the server's own limit.
const DeadLetterSpareDeliveries = 30

// VersionWaitDeliveries is how many deliveries an event of a version newer
// than its consumer knows may use while it waits for the consumer's
// upgrade (bus.WithVersionPatience spreads them over the patience window).
// They are added to MaxDeliver in the server's consumer configuration, so
// that an event that waited still gets every handler attempt.
const VersionWaitDeliveries = 12

// StreamConfig is the server's configuration of a stream, the fields the
// platform sets. Marshalled with encoding/json it is the JSON the server's
// API takes, which `nats stream add --config FILE` accepts.
type StreamConfig struct {
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Subjects    []string      `json:"subjects"`
	Retention   string        `json:"retention"` // "limits"
	Discard     string        `json:"discard"`   // "old"
	MaxAge      time.Duration `json:"max_age"`
	Duplicates  time.Duration `json:"duplicate_window"`
	Storage     string        `json:"storage"` // "file"
	Replicas    int           `json:"num_replicas"`
}

// ConsumerConfig is the server's configuration of a durable pull consumer,
// the fields the platform sets. Marshalled with encoding/json it is the
// JSON the server's API takes, which `nats consumer add STREAM --config
// FILE` accepts.
type ConsumerConfig struct {
	Durable        string        `json:"durable_name"`
	Description    string        `json:"description,omitempty"`
	DeliverPolicy  string        `json:"deliver_policy"` // "all"
	AckPolicy      string        `json:"ack_policy"`     // "explicit"
	AckWait        time.Duration `json:"ack_wait"`
	MaxDeliver     int           `json:"max_deliver"`
	FilterSubject  string        `json:"filter_subject,omitempty"`
	FilterSubjects []string      `json:"filter_subjects,omitempty"`
}

// Delivery is what a consuming service may set of its durable: how often a
// message is delivered to a failing handler before it is dead-lettered,
// and how long the server waits for an acknowledgement. Zero values are
// the defaults.
type Delivery struct {
	MaxDeliver int
	AckWait    time.Duration
}

// withDefaults returns d with zero values replaced by the defaults, or
// ErrInvalidSettings for a negative one.
func (d Delivery) withDefaults() (Delivery, error) {
	if d.MaxDeliver < 0 {
		return d, fmt.Errorf("%w: max deliver %d (want >= 1)", ErrInvalidSettings, d.MaxDeliver)
	}
	if d.AckWait < 0 {
		return d, fmt.Errorf("%w: ack wait %v (want > 0)", ErrInvalidSettings, d.AckWait)
	}
	if d.MaxDeliver == 0 {
		d.MaxDeliver = DefaultMaxDeliver
	}
	if d.AckWait == 0 {
		d.AckWait = DefaultAckWait
	}
	return d, nil
}

// StreamConfigs returns the configuration of the events stream of cat and
// of its dead-letter stream (subjects "<prefix>.>", same max age,
// duplicates window and replicas), as sdk/bus creates them.
func StreamConfigs(cat *Catalog) (events, deadLetters StreamConfig) {
	replicas := max(cat.Stream.Replicas, 1)
	dlStream, dlPrefix := DeadLetters(cat)
	events = StreamConfig{
		Name:        cat.Stream.Name,
		Description: "GIIA events (managed by sdk/bus)",
		Subjects:    cat.Stream.Subjects,
		Retention:   "limits",
		Discard:     "old",
		MaxAge:      cat.Stream.MaxAge,
		Duplicates:  cat.Stream.Duplicates,
		Storage:     "file",
		Replicas:    replicas,
	}
	deadLetters = events
	deadLetters.Name = dlStream
	deadLetters.Description = "GIIA dead letters of " + cat.Stream.Name + " (managed by sdk/bus)"
	deadLetters.Subjects = []string{dlPrefix + ".>"}
	return events, deadLetters
}

// ConsumerConfigFor returns the configuration of service's durable pull
// consumer on the events stream of a NATS 2.10+ server: one durable,
// ConsumerName(service), filtering every subject the service consumes,
// delivering everything, acknowledged one by one, and delivering a message
// at most MaxDeliver + VersionWaitDeliveries + DeadLetterSpareDeliveries
// times. Errors:
// ErrUnknownService, ErrNotConsumer, ErrInvalidSettings.
func ConsumerConfigFor(cat *Catalog, service string, d Delivery) (ConsumerConfig, error) {
	if cat == nil {
		return ConsumerConfig{}, fmt.Errorf("%w: nil catalog", ErrInvalidSettings)
	}
	d, err := d.withDefaults()
	if err != nil {
		return ConsumerConfig{}, err
	}
	if _, ok := cat.Service(service); !ok {
		return ConsumerConfig{}, fmt.Errorf("%w: %q", ErrUnknownService, service)
	}
	subjects := cat.ConsumedBy(service)
	if len(subjects) == 0 {
		return ConsumerConfig{}, fmt.Errorf("%w: %q consumes no event", ErrNotConsumer, service)
	}
	return ConsumerConfig{
		Durable:        ConsumerName(service),
		Description:    "GIIA events consumed by " + service + " (managed by sdk/bus)",
		DeliverPolicy:  "all",
		AckPolicy:      "explicit",
		AckWait:        d.AckWait,
		MaxDeliver:     d.MaxDeliver + VersionWaitDeliveries + DeadLetterSpareDeliveries,
		FilterSubjects: subjects,
	}, nil
}

// LegacyConsumerConfigs returns the durables of service on a NATS 2.9
// server, which filters a consumer on one subject only: ConsumerConfigFor
// split into one durable per subject (LegacyConsumerName). Errors: those
// of ConsumerConfigFor.
func LegacyConsumerConfigs(cat *Catalog, service string, d Delivery) ([]ConsumerConfig, error) {
	cfg, err := ConsumerConfigFor(cat, service, d)
	if err != nil {
		return nil, err
	}
	return PerSubject(cfg, service), nil
}

// PerSubject splits a multi-filter consumer configuration of service into
// one durable per subject.
func PerSubject(cfg ConsumerConfig, service string) []ConsumerConfig {
	subjects := cfg.FilterSubjects
	cfg.FilterSubjects = nil
	configs := make([]ConsumerConfig, len(subjects))
	for i, s := range subjects {
		configs[i] = cfg
		configs[i].Durable = LegacyConsumerName(service, s)
		configs[i].FilterSubject = s
	}
	return configs
}
