package bus

import (
	"bytes"
	"context"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
)

// Encoded is an event that Publisher.Encode checked and wrapped in its
// envelope, to be sent later, perhaps by another process, with
// SendEncoded: what a transactional outbox stores, so that what its relay
// publishes is what Publish would have published at the time of the
// change.
type Encoded struct {
	ID       uuid.UUID
	Subject  string
	Version  int
	Envelope []byte // the envelope's JSON: the message body

	// Trace is the trace context of the context Encode was given, as the
	// propagator writes it into NATS headers (W3C traceparent and
	// tracestate); nil when there is none, as with no propagator set.
	Trace nats.Header
}

// Encode checks v as Publish does and returns the event Publish would send,
// without sending it. Errors: those Publish returns at once.
func (p *Publisher) Encode(ctx context.Context, subject string, v any, opts ...PublishOption) (Encoded, error) {
	s := getScratch()
	defer putScratch(s)
	var env Envelope
	if _, err := p.encodeInto(ctx, s, &env, subject, v, opts); err != nil {
		return Encoded{}, err
	}
	e := Encoded{ID: env.ID, Subject: env.Subject, Version: env.Version, Envelope: bytes.Clone(s.body)}
	if len(otel.GetTextMapPropagator().Fields()) > 0 {
		h := nats.Header{}
		injectTrace(ctx, h)
		if len(h) > 0 {
			e.Trace = h
		}
	}
	return e, nil
}

// SendEncoded publishes e asynchronously, once (the caller decides on
// retries), with its event id as Nats-Msg-Id and its trace context; the
// future reports the outcome as PublishAsync's does. When WithMaxPending
// events are already in flight it waits for room (see AsyncRoom), or
// until ctx ends. e must come from Encode of a publisher of the same
// service: its envelope is sent as it is.
func (p *Publisher) SendEncoded(ctx context.Context, e Encoded) (*PublishFuture, error) {
	if err := p.startAsync(); err != nil {
		return nil, err
	}
	msg := newMessage(e.Subject, p.sourceHeader, e.Version, e.Envelope, "")
	for k, v := range e.Trace {
		msg.Header[k] = v
	}
	return p.sendAsync(ctx, msg, e.ID, 1, nil)
}

// AsyncRoom returns how many more events may be sent asynchronously
// before the next one waits for room: WithMaxPending minus the events in
// flight. A caller that must not wait for NATS checks it first.
func (p *Publisher) AsyncRoom() (int, error) {
	if err := p.startAsync(); err != nil {
		return 0, err
	}
	a := &p.async
	return cap(a.room) - len(a.room), nil
}
