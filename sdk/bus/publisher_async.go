package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/giia/events/sdk/payload"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
)

// PublishFuture is the outcome, to come, of one PublishAsync: the
// stream's ack, or why the event could not be stored.
type PublishFuture struct {
	id   uuid.UUID
	msg  *nats.Msg
	done chan struct{}

	// Set once, before done is closed.
	ack *PublishAck
	err error

	// The retry state, used by one attempt at a time.
	ctx      context.Context
	attempts atomic.Int32 // made so far
	max      int32

	// Telemetry, ended with the outcome: the send span (nil without a
	// TracerProvider) and the start (zero without a MeterProvider).
	span  trace.Span
	start time.Time
}

// ID returns the event's id, its envelope id and Nats-Msg-Id.
func (f *PublishFuture) ID() uuid.UUID { return f.id }

// Subject returns the event's subject.
func (f *PublishFuture) Subject() string { return f.msg.Subject }

// Done returns a channel closed once the outcome is known.
func (f *PublishFuture) Done() <-chan struct{} { return f.done }

// Wait waits for the outcome and returns it: the stream's ack, or a
// *PublishError (ErrPublishFailed) as Publish returns it. If ctx ends
// first it returns ctx's error; the publish itself goes on.
func (f *PublishFuture) Wait(ctx context.Context) (*PublishAck, error) {
	select {
	case <-f.done:
		return f.ack, f.err
	default:
	}
	select {
	case <-f.done:
		return f.ack, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// asyncPublisher is a Publisher's state for PublishAsync: a JetStream
// context of its own (its acks, its errors, its reply subscription), the
// room left in flight and the events not yet resolved.
type asyncPublisher struct {
	once sync.Once
	js   jetstream.JetStream
	err  error
	room chan struct{} // one token per event in flight

	mu      sync.Mutex
	pending map[*nats.Msg]*PublishFuture
	idle    chan struct{} // closed when pending empties; nil until Flush waits
}

// startAsync sets up the asynchronous publisher on first use.
func (p *Publisher) startAsync() error {
	a := &p.async
	a.once.Do(func() {
		a.room = make(chan struct{}, p.opts.maxPending)
		a.mu.Lock()
		a.pending = make(map[*nats.Msg]*PublishFuture)
		a.mu.Unlock()
		a.js, a.err = jetstream.New(p.conn.nc,
			jetstream.WithPublishAsyncMaxPending(p.opts.maxPending),
			jetstream.WithPublishAsyncTimeout(p.opts.timeout),
			jetstream.WithPublishAsyncAckHandler(p.onAsyncAck),
			jetstream.WithPublishAsyncErrHandler(p.onAsyncErr),
		)
		if a.err == nil {
			// A refused publish gets no ack, only the server's -ERR: it
			// resolves the events in flight on that subject at once.
			p.conn.onDenied(func(subject string, err error) { go p.asyncDenied(subject, err) })
		}
	})
	if a.err != nil {
		return fmt.Errorf("bus: asynchronous publisher: %w", a.err)
	}
	return nil
}

// PublishAsync checks payload and sends it as Publish does, without
// waiting for the stream's ack: the returned future reports the outcome.
// Events published from one goroutine are stored in call order, unless a
// retry reorders them. Call Flush to wait until every event in flight has
// its outcome, and before closing the connection.
//
// Returned at once, with nothing sent and no future: the errors of
// Publish for an unknown subject, another service's event, a payload that
// breaks its schema (*payload.ValidationError) and a bad option. When
// WithMaxPending events are already in flight, PublishAsync waits for
// room; if ctx ends first it returns ctx's error, nothing sent. ctx also
// bounds the retries of transient failures (WithRetry): none starts once
// it has ended. Each attempt waits WithPublishTimeout for its ack. The
// future's error is a *PublishError (ErrPublishFailed), which matches
// ErrPermissionDenied when the server refused the subject.
func (p *Publisher) PublishAsync(ctx context.Context, subject string, payload any, opts ...PublishOption) (*PublishFuture, error) {
	if err := p.startAsync(); err != nil {
		return nil, err
	}
	s := getScratch()
	var env Envelope
	msgID, err := p.encodeInto(ctx, s, &env, subject, payload, opts)
	// The message outlives this call (until its outcome, and the client
	// may retry it): it gets its own copy of the body.
	body := bytes.Clone(s.body)
	putScratch(s)
	if err != nil {
		return nil, err
	}
	msg := newMessage(subject, p.sourceHeader, env.Version, body, msgID)
	ctx, span := startSend(ctx, subject, env.ID)
	injectTrace(ctx, msg.Header) // the send span's context, when tracing
	f, err := p.sendAsync(ctx, msg, env.ID, p.opts.attempts, span)
	if err != nil {
		endSpan(span, err)
	}
	return f, err
}

// PublishPayloadAsync publishes v, a generated payload, on its event's
// subject, as PublishAsync does.
func (p *Publisher) PublishPayloadAsync(ctx context.Context, v payload.Payload, opts ...PublishOption) (*PublishFuture, error) {
	return p.PublishAsync(ctx, v.EventSubject(), v, opts...)
}

// sendAsync publishes msg, an encoded envelope, with the event id as its
// Nats-Msg-Id (set unless msg has one), making at most attempts attempts.
func (p *Publisher) sendAsync(ctx context.Context, msg *nats.Msg, id uuid.UUID, attempts int, span trace.Span) (*PublishFuture, error) {
	if msg.Header[jetstream.MsgIDHeader] == nil {
		msg.Header[jetstream.MsgIDHeader] = []string{id.String()}
	}
	a := &p.async
	select {
	case a.room <- struct{}{}:
	default:
		select {
		case a.room <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("bus: publish %q (event %s): waiting for room among %d events in flight: %w",
				msg.Subject, id, cap(a.room), ctx.Err())
		}
	}
	f := &PublishFuture{id: id, msg: msg, done: make(chan struct{}), ctx: ctx, max: int32(attempts), span: span, start: p.conn.publishStart(ctx)}
	a.mu.Lock()
	a.pending[msg] = f
	a.mu.Unlock()
	p.attemptAsync(f)
	return f, nil
}

// attemptAsync sends f's message once more.
func (p *Publisher) attemptAsync(f *PublishFuture) {
	f.attempts.Add(1)
	if _, err := p.async.js.PublishMsgAsync(f.msg); err != nil {
		p.asyncFailed(f, err)
	}
}

// onAsyncAck receives the acks of the JetStream context, in the order the
// stream sent them.
func (p *Publisher) onAsyncAck(_ jetstream.JetStream, msg *nats.Msg, pa *jetstream.PubAck) {
	a := &p.async
	a.mu.Lock()
	f := a.pending[msg]
	a.mu.Unlock()
	if f == nil {
		return // resolved already (refused by the server)
	}
	p.resolve(f, &PublishAck{ID: f.id, Stream: pa.Stream, Sequence: pa.Sequence, Duplicate: pa.Duplicate}, nil)
}

// onAsyncErr receives the failures of the JetStream context's attempts:
// no ack in time, a lost connection, an error from the stream.
func (p *Publisher) onAsyncErr(_ jetstream.JetStream, msg *nats.Msg, err error) {
	a := &p.async
	a.mu.Lock()
	f := a.pending[msg]
	a.mu.Unlock()
	if f != nil {
		p.asyncFailed(f, err)
	}
}

// asyncFailed retries f after its backoff when the failure is transient,
// attempts remain and its context has not ended, and resolves it
// otherwise.
func (p *Publisher) asyncFailed(f *PublishFuture, err error) {
	if f.attempts.Load() < f.max && asyncTransient(err) && f.ctx.Err() == nil {
		time.AfterFunc(p.retryWait(int(f.attempts.Load())), func() {
			if !p.inFlight(f) {
				return
			}
			if cerr := f.ctx.Err(); cerr != nil {
				p.resolve(f, nil, &PublishError{Subject: f.msg.Subject, EventID: f.id, Attempts: int(f.attempts.Load()),
					Err: fmt.Errorf("%w (last attempt: %w)", cerr, err)})
				return
			}
			p.attemptAsync(f)
		})
		return
	}
	if cerr := f.ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (last attempt: %w)", cerr, err)
	}
	p.resolve(f, nil, &PublishError{Subject: f.msg.Subject, EventID: f.id, Attempts: int(f.attempts.Load()), Err: err})
}

// asyncTransient reports whether a failed asynchronous attempt may
// succeed if retried with the same message id: transient's failures, no
// ack in time, a full reconnect buffer, and a stall at nats.go's own
// pending cap (a retry can find the cap still full of attempts that a
// reconnect has not yet resolved).
func asyncTransient(err error) bool {
	return transient(err) ||
		errors.Is(err, jetstream.ErrAsyncPublishTimeout) ||
		errors.Is(err, nats.ErrReconnectBufExceeded) ||
		errors.Is(err, jetstream.ErrTooManyStalledMsgs)
}

// asyncDenied resolves the events in flight on subject, which the server
// refused to take (every one in flight when the refusal names no subject).
func (p *Publisher) asyncDenied(subject string, denied error) {
	a := &p.async
	a.mu.Lock()
	var refused []*PublishFuture
	for _, f := range a.pending {
		if subject == "" || f.msg.Subject == subject {
			refused = append(refused, f)
		}
	}
	a.mu.Unlock()
	for _, f := range refused {
		p.resolve(f, nil, &PublishError{Subject: f.msg.Subject, EventID: f.id, Attempts: int(f.attempts.Load()),
			Err: fmt.Errorf("%w: %w", ErrPermissionDenied, denied)})
	}
}

func (p *Publisher) inFlight(f *PublishFuture) bool {
	a := &p.async
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending[f.msg] == f
}

// resolve sets f's outcome, unless it has one already, and frees its room.
func (p *Publisher) resolve(f *PublishFuture, ack *PublishAck, err error) {
	a := &p.async
	a.mu.Lock()
	if a.pending[f.msg] != f {
		a.mu.Unlock()
		return
	}
	delete(a.pending, f.msg)
	var idle chan struct{}
	if len(a.pending) == 0 && a.idle != nil {
		idle, a.idle = a.idle, nil
	}
	f.ack, f.err = ack, err
	a.mu.Unlock()
	p.conn.published(f.ctx, &p.metricSets, f.msg.Subject, f.start, err)
	endSpan(f.span, err)
	close(f.done)
	<-a.room
	if idle != nil {
		close(idle)
	}
}

// Flush waits until every event PublishAsync sent has its outcome, acked
// or failed after its retries. If ctx ends first it returns ctx's error,
// wrapped with how many events are still in flight. Call it before closing
// the connection, so that no event is left unresolved.
func (p *Publisher) Flush(ctx context.Context) error {
	a := &p.async
	a.mu.Lock()
	if len(a.pending) == 0 {
		a.mu.Unlock()
		return nil
	}
	if a.idle == nil {
		a.idle = make(chan struct{})
	}
	idle := a.idle
	a.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bus: flush: %d events still in flight: %w", p.InFlight(), ctx.Err())
	}
}

// InFlight returns how many events PublishAsync sent that have no outcome
// yet.
func (p *Publisher) InFlight() int {
	a := &p.async
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}

// Outgoing is one event for PublishBatch.
type Outgoing struct {
	Subject string
	Payload any
	Options []PublishOption
}

// PublishResult is the outcome of one event of PublishBatch: its ack, or
// why it was not published.
type PublishResult struct {
	Ack *PublishAck
	Err error
}

// PublishBatch publishes events with PublishAsync and waits for their
// outcomes, returned in the order of events. An event that fails its
// checks is not sent and does not stop the others. The error is nil when
// every event was stored; otherwise it tells how many were not and wraps
// the first one's error. If ctx ends, the events not yet sent get ctx's
// error and those in flight may still be stored.
func (p *Publisher) PublishBatch(ctx context.Context, events []Outgoing) ([]PublishResult, error) {
	results := make([]PublishResult, len(events))
	futures := make([]*PublishFuture, len(events))
	for i, e := range events {
		futures[i], results[i].Err = p.PublishAsync(ctx, e.Subject, e.Payload, e.Options...)
	}
	failed, first := 0, -1
	for i, f := range futures {
		if f != nil {
			results[i].Ack, results[i].Err = f.Wait(ctx)
		}
		if results[i].Err != nil {
			if failed++; first < 0 {
				first = i
			}
		}
	}
	if failed == 0 {
		return results, nil
	}
	return results, fmt.Errorf("bus: %d of %d events not published; event %d: %w", failed, len(events), first, results[first].Err)
}
