package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/giia/events/internal/backoff"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers the runtime sets on the messages it publishes.
const (
	HeaderSource  = "Giia-Source"  // the publishing service
	HeaderVersion = "Giia-Version" // the payload's schema version
)

// Publisher publishes the events one service owns. It is safe for
// concurrent use.
type Publisher struct {
	conn         *Conn
	cat          *spec.Catalog
	service      string
	sourceHeader []string // the Giia-Source header value, shared read-only
	opts         publisherOptions
	async        asyncPublisher // PublishAsync's state
	metricSets   sync.Map       // subject -> attribute.Set of its publish measurements
}

// PublishAck is the stream's receipt for a published event.
type PublishAck struct {
	ID        uuid.UUID // the envelope's id, also its Nats-Msg-Id
	Stream    string
	Sequence  uint64
	Duplicate bool // the stream already held an event with this id
}

// NewPublisher returns a publisher for service, which must be declared in
// cat (ErrUnknownService otherwise). A bad option returns an error
// wrapping ErrInvalidOption.
func NewPublisher(c *Conn, cat *spec.Catalog, service string, opts ...PublisherOption) (*Publisher, error) {
	if c == nil || cat == nil {
		return nil, fmt.Errorf("%w: nil connection or catalog", ErrInvalidOption)
	}
	if _, ok := cat.Service(service); !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownService, service)
	}
	o := defaultPublisherOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return &Publisher{conn: c, cat: cat, service: service, sourceHeader: []string{service}, opts: o}, nil
}

// Conn returns the connection the publisher publishes on.
func (p *Publisher) Conn() *Conn { return p.conn }

// Service returns the name of the publishing service.
func (p *Publisher) Service() string { return p.service }

// Publish validates payload against the schema of the event at subject,
// wraps it in an envelope and stores it in the stream, waiting for the
// stream's ack.
//
// Returned at once, with nothing sent: ErrUnknownSubject for a subject
// that is not in the catalog, ErrNotPublisher for an event another service
// owns, a *payload.ValidationError (matching ErrInvalidPayload, with the subject
// and the failing JSON pointers) for a payload that breaks its schema,
// ErrInvalidOption for a bad PublishOption. Transient failures are retried
// as WithRetry says; a publish that still fails returns a *PublishError
// (ErrPublishFailed), which also matches ErrPermissionDenied when the
// server refused the subject (never retried) and the context's error when
// ctx ended.
func (p *Publisher) Publish(ctx context.Context, subject string, payload any, opts ...PublishOption) (*PublishAck, error) {
	s := getScratch()
	defer putScratch(s) // the message is not used once send returns
	var env Envelope
	msgID, err := p.encodeInto(ctx, s, &env, subject, payload, opts)
	if err != nil {
		return nil, err
	}
	m := getMessage(subject, p.sourceHeader, env.Version, s.body, msgID)
	defer putMessage(m) // like the body, unused once send returns
	ctx, span := startSend(ctx, subject, env.ID)
	injectTrace(ctx, m.msg.Header) // the send span's context, when tracing
	start := p.conn.publishStart(ctx)
	ack, err := p.send(ctx, &m.msg, env.ID)
	p.conn.published(ctx, &p.metricSets, subject, start, err)
	endSpan(span, err)
	return ack, err
}

// PublishPayload publishes v, a generated payload, on its event's subject,
// as Publish does; the typed publisher facades of sdk/events call it.
func (p *Publisher) PublishPayload(ctx context.Context, v payload.Payload, opts ...PublishOption) (*PublishAck, error) {
	return p.Publish(ctx, v.EventSubject(), v, opts...)
}

// encodeInto checks v as Publish does, fills env and writes its JSON
// encoding into s.body; it returns env.ID as a string, the Nats-Msg-Id.
// env.Payload points into s.
func (p *Publisher) encodeInto(ctx context.Context, s *scratch, env *Envelope, subject string, v any, opts []PublishOption) (msgID string, err error) {
	ev, ok := p.cat.Event(subject)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownSubject, subject)
	}
	if ev.Publisher != p.service {
		return "", fmt.Errorf("%w: %q is published by %q, not %q", ErrNotPublisher, subject, ev.Publisher, p.service)
	}
	var po publishOptions
	for _, opt := range opts {
		if err := opt(&po); err != nil {
			return "", err
		}
	}
	data, version, err := s.encodePayload(ev, v)
	if err != nil {
		return "", err
	}
	if msgID, err = p.envelope(ctx, env, ev, version, data, &po); err != nil {
		return "", err
	}
	if s.body, err = appendEnvelope(slices.Grow(s.body[:0], envelopeSize(env)), env); err != nil {
		return "", fmt.Errorf("bus: encode envelope: %w", err)
	}
	if limit := p.conn.maxEnvelope(); limit > 0 && int64(len(s.body)) > limit {
		return "", fmt.Errorf("%w: the %s event is %d bytes, and the server carries at most %d (its max_payload less %d for headers and a dead letter's)",
			ErrTooLarge, subject, len(s.body), limit, HeaderReserve)
	}
	return msgID, nil
}

// invalidPayload is the error for a payload of subject that a validator
// refused with err.
func invalidPayload(subject string, err error) error {
	var ve *payload.ValidationError
	if errors.As(err, &ve) {
		if ve.Subject == "" {
			ve.Subject = subject
		}
		return err
	}
	return fmt.Errorf("%w for %q: %w", ErrInvalidPayload, subject, err)
}

// envelope fills env for a payload of ev, of the given version, encoded
// as data, and returns env.ID as a string (formatted once: it is also the
// correlation id by default).
func (p *Publisher) envelope(ctx context.Context, env *Envelope, ev *spec.Event, version int, data []byte, po *publishOptions) (string, error) {
	*env = Envelope{
		ID:        po.id,
		Subject:   ev.Subject,
		Timestamp: po.timestamp,
		Source:    p.service,
		Version:   version,
		Payload:   data,
	}
	if !po.hasID {
		env.ID = newEventID()
	}
	if !po.hasTimestamp {
		env.Timestamp = time.Now()
	}
	env.Timestamp = env.Timestamp.UTC()
	ctxOrg, ctxCorr, _ := CorrelationFrom(ctx)
	id := env.ID.String()
	switch {
	case po.hasCorrelation:
		env.CorrelationID = po.correlationID
	case ctxCorr != "":
		env.CorrelationID = ctxCorr
	default:
		env.CorrelationID = id
	}
	if len(env.CorrelationID) > maxCorrelationID {
		return "", fmt.Errorf("%w: correlation id of %d bytes (want at most %d)", ErrInvalidOption, len(env.CorrelationID), maxCorrelationID)
	}
	if po.hasOrg {
		env.OrganizationID = po.organizationID
	} else {
		env.OrganizationID = ctxOrg
	}
	return id, nil
}

// send publishes msg, retrying transient failures with the same message id.
func (p *Publisher) send(ctx context.Context, msg *nats.Msg, id uuid.UUID) (*PublishAck, error) {
	fail := func(attempts int, err error) (*PublishAck, error) {
		return nil, &PublishError{Subject: msg.Subject, EventID: id, Attempts: attempts, Err: err}
	}
	for attempt := 1; ; attempt++ {
		ack, err := p.attempt(ctx, msg, id)
		if err == nil {
			return &PublishAck{ID: id, Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		}
		if attempt >= p.opts.attempts || ctx.Err() != nil || !transient(err) {
			return fail(attempt, err)
		}
		t := time.NewTimer(p.retryWait(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fail(attempt, fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err))
		case <-t.C:
		}
	}
}

// maxRetryWait caps the doubling of WithRetry's wait (a first wait above
// it is kept, and not doubled).
const maxRetryWait = 5 * time.Second

// retryWait returns the wait after the failed attempt number attempt (1
// for the first) as WithRetry says: its backoff doubled after each further
// attempt up to maxRetryWait, drawn at random from the upper half of that.
func (p *Publisher) retryWait(attempt int) time.Duration {
	return backoff.Policy{First: p.opts.backoff, Max: maxRetryWait}.Delay(attempt - 1)
}

func (p *Publisher) attempt(ctx context.Context, msg *nats.Msg, id uuid.UUID) (jetstream.PubAck, error) {
	if msg.Header[jetstream.MsgIDHeader] == nil {
		msg.Header[jetstream.MsgIDHeader] = []string{id.String()}
	}
	return p.conn.publishSync(ctx, msg, p.opts.timeout)
}

// transient reports whether a failed publish attempt may succeed if
// retried with the same message id.
func transient(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrDisconnected):
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 503
	}
	return false
}

// isJSONObject reports whether data, the output of json.Marshal (compact,
// no leading space), is an object.
func isJSONObject(data []byte) bool { return len(data) > 0 && data[0] == '{' }
