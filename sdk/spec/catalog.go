package spec

import (
	"slices"
	"sort"
	"time"
)

// Catalog is the runtime description of every event of the platform. The
// generated package sdk/events exposes one as events.Catalog; the stream and
// consumer set-up, the publisher and the subscriber of sdk/bus all read it,
// and so does eventgen when it writes server configuration, so that what
// runs is exactly what the YAML catalog declares.
type Catalog struct {
	Stream   Stream
	Services []Service // sorted by name
	Events   []Event   // sorted by subject
}

// Stream is the JetStream stream that carries every event, and the
// stream that keeps dead letters.
type Stream struct {
	Name       string
	Subjects   []string
	Duplicates time.Duration // de-duplication window for Nats-Msg-Id
	MaxAge     time.Duration
	Replicas   int

	// DeadLetterStream keeps the messages that a consumer gave up on, under
	// DeadLetterPrefix.<service>.<original subject>.
	DeadLetterStream string
	DeadLetterPrefix string
}

// Service is a service that publishes or consumes events.
type Service struct {
	Name        string
	Description string
	Owner       string
	External    bool // lives outside this repository
}

// Event is one event of the catalog.
type Event struct {
	Subject     string
	Version     int
	Publisher   string
	Consumers   []string // sorted
	Description string
	Schema      string // the payload's JSON Schema document, as written

	// ValidateJSON is the exact check a consumer applies to an incoming
	// payload of the current version; it returns a *payload.ValidationError
	// naming each failing JSON pointer.
	ValidateJSON func(payload []byte) error

	// PublishVersion is the version publishers send: Version, or an older
	// one the catalog pins during a rollout. 0 means Version.
	PublishVersion int

	// Older are the older versions whose events may still be in the
	// stream, ascending, each below Version.
	Older []EventVersion
}

// EventVersion is an older version of an event.
type EventVersion struct {
	Version      int
	Schema       string                     // its payload's JSON Schema document, as written
	ValidateJSON func(payload []byte) error // the check of a payload of this version
}

// Validator returns the check of a payload of the given version, and
// whether the version is one the catalog knows (the current one or an
// older one). The check is nil when the catalog holds none.
func (e *Event) Validator(version int) (check func([]byte) error, known bool) {
	if version == e.Version {
		return e.ValidateJSON, true
	}
	for i := range e.Older {
		if e.Older[i].Version == version {
			return e.Older[i].ValidateJSON, true
		}
	}
	return nil, false
}

// Versions returns the versions the catalog knows of the event, ascending:
// the older ones, then the current one.
func (e *Event) Versions() []int {
	vs := make([]int, 0, len(e.Older)+1)
	for _, o := range e.Older {
		vs = append(vs, o.Version)
	}
	return append(vs, e.Version)
}

// Sends returns the version publishers send: PublishVersion, else Version.
func (e *Event) Sends() int {
	if e.PublishVersion != 0 {
		return e.PublishVersion
	}
	return e.Version
}

// Event returns the event with the given subject.
func (c *Catalog) Event(subject string) (*Event, bool) {
	i, ok := sort.Find(len(c.Events), func(i int) int {
		switch {
		case subject < c.Events[i].Subject:
			return -1
		case subject > c.Events[i].Subject:
			return 1
		}
		return 0
	})
	if !ok {
		return nil, false
	}
	return &c.Events[i], true
}

// Service returns the service with the given name.
func (c *Catalog) Service(name string) (*Service, bool) {
	for i := range c.Services {
		if c.Services[i].Name == name {
			return &c.Services[i], true
		}
	}
	return nil, false
}

// ConsumedBy returns the subjects that service consumes, sorted.
func (c *Catalog) ConsumedBy(service string) []string {
	var subjects []string
	for _, e := range c.Events {
		if slices.Contains(e.Consumers, service) {
			subjects = append(subjects, e.Subject)
		}
	}
	return subjects
}

// PublishedBy returns the subjects that service publishes, sorted.
func (c *Catalog) PublishedBy(service string) []string {
	var subjects []string
	for _, e := range c.Events {
		if e.Publisher == service {
			subjects = append(subjects, e.Subject)
		}
	}
	return subjects
}
