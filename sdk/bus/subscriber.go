package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/giia/events/internal/backoff"
	"github.com/giia/events/sdk/spec"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter. Its data is the original message, byte for
// byte.
const (
	HeaderDeadLetterReason = "Giia-Dead-Letter-Reason" // why the message was given up
	HeaderOriginalSubject  = "Giia-Original-Subject"
	HeaderConsumer         = "Giia-Consumer"        // the durable that gave up
	HeaderDeliveryCount    = "Giia-Delivery-Count"  // deliveries made, the last included
	HeaderStreamSequence   = "Giia-Stream-Sequence" // in the events stream
	HeaderEventID          = "Giia-Event-Id"        // when the envelope could be read
)

// Metadata is what an incoming event's envelope and its delivery say
// about it.
type Metadata struct {
	ID             uuid.UUID
	Subject        string
	CorrelationID  string
	OrganizationID uuid.UUID
	Timestamp      time.Time
	Source         string
	Version        int
	Delivered      uint64 // delivery count, 1 on first delivery
	StreamSequence uint64
}

// Event is a decoded incoming event.
type Event[T any] struct {
	Metadata
	Payload T
}

// Handler handles one event. Returning nil acknowledges it; an error has
// it redelivered after a delay, up to MaxDeliver times, then
// dead-lettered; Permanent(err) dead-letters it at once. ctx carries the
// event's correlation (see CorrelationFrom), so events published with it
// inherit the correlation id and organization.
type Handler[T any] func(ctx context.Context, ev Event[T]) error

// Route binds a subject to a typed handler; see NewRoute.
type Route struct {
	subject string
	invalid bool // a decoded route without its decoder
	call    func(ctx context.Context, md Metadata, payload json.RawMessage) error
}

// NewRoute routes the events of subject to h, decoding the payload (already
// checked against the schema of its version) into T with encoding/json; a
// payload that does not decode is dead-lettered. A nil h acknowledges the
// events once validated. T is the type of every version: use
// NewDecodedRoute where versions differ.
func NewRoute[T any](subject string, h Handler[T]) Route {
	r := Route{subject: subject}
	if h != nil {
		r.call = func(ctx context.Context, md Metadata, payload json.RawMessage) error {
			var v T
			if err := json.Unmarshal(payload, &v); err != nil {
				return Permanent(fmt.Errorf("%w: decode: %w", ErrInvalidPayload, err))
			}
			return h(ctx, Event[T]{Metadata: md, Payload: v})
		}
	}
	return r
}

// Decoder decodes a payload of the given version, already checked against
// that version's schema, into T, the current version's type, running the
// upcasters of the versions in between. An error dead-letters the event.
type Decoder[T any] func(version int, data []byte) (T, error)

// NewDecodedRoute routes the events of subject to h, each payload decoded
// by decode from the version it was published as (Metadata.Version); the
// generated consumer facades use it. A nil h acknowledges the events once
// validated; a nil decode is an ErrInvalidRoute at Consume.
func NewDecodedRoute[T any](subject string, h Handler[T], decode Decoder[T]) Route {
	r := Route{subject: subject, invalid: decode == nil}
	if h != nil && decode != nil {
		r.call = func(ctx context.Context, md Metadata, payload json.RawMessage) error {
			v, err := decode(md.Version, payload)
			if err != nil {
				return Permanent(fmt.Errorf("%w: decode version %d: %w", ErrInvalidPayload, md.Version, err))
			}
			return h(ctx, Event[T]{Metadata: md, Payload: v})
		}
	}
	return r
}

// Subject returns the route's subject.
func (r Route) Subject() string { return r.subject }

// pullExpiry bounds each pull request. A server that lost a pull request
// (a restart, a cluster leader change) leaves the consumer idle until the
// client notices two missed heartbeats, half the expiry each; nats.go's
// default of 30 s stalled consumption for 30 s after such faults.
const pullExpiry = 5 * time.Second

// stallCheck is how often a loop looks whether its durable stalled:
// nats.go v1.55.0 skips a pull when the one before it is still being sent
// as the last buffered message is taken (nats-io/nats.go issue 1622;
// likelier the smaller the pull batch, and on a busy machine), and the
// consumer then sits idle until its missed-heartbeat timer fires, 5 s
// later. A loop that received nothing for two looks while nothing is
// queued asks the server, once per idle spell, whether the durable has
// messages it did not deliver; if so it consumes afresh. Stalls last
// under half a second instead (TestConsumeBacklogWithoutStall).
const stallCheck = 150 * time.Millisecond

// Subscription is a running consumer started by Consume.
type Subscription struct {
	conn    *Conn
	cat     *spec.Catalog
	service string
	opts    consumerOptions
	routes  map[string]Route
	names   []string

	dlStream, dlPrefix string

	failures failureCounts // handler failures per message, in this process

	metricSets  sync.Map // subject and durable -> attribute.Set of consume measurements
	stopMetrics func()   // ends the consumer gauges' polls

	// The durables' callbacks queue each message for maxInFlight
	// long-lived workers, which take one at a time (or a group, with a
	// HandlerScope): at most maxInFlight handlers run, and with one worker
	// the messages are handled in the order they arrived.
	queue    *deliveryQueue
	slots    []handlerSlot // one per worker: what it is running, for keepAlive
	stop     chan struct{} // closed by Stop
	stopOnce sync.Once
	ctx      context.Context // handlers' base context; ends when Stop gives up
	cancel   context.CancelFunc
	loops    []*loop
	loopWG   sync.WaitGroup
	handleWG sync.WaitGroup // the workers
	done     chan struct{}  // closed once loops, workers and keepAlive ended
}

// loop consumes one durable consumer.
type loop struct {
	mu       sync.Mutex
	cons     boundConsumer
	cc       jetstream.ConsumeContext
	stopped  bool
	received atomic.Uint64 // messages its callback got, for the stall check
}

// set makes cc the loop's consume context, unless the loop was stopped.
func (l *loop) set(cc jetstream.ConsumeContext) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		cc.Stop()
		return false
	}
	l.cc = cc
	return true
}

func (l *loop) drain() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if l.cc != nil {
		l.cc.Drain()
	}
}

func (l *loop) context() jetstream.ConsumeContext {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cc
}

// Consume starts service's durable consumer (creating or updating it, see
// EnsureConsumer) and dispatches each incoming event to the route of its
// subject, at most WithMaxInFlight at a time, on as many long-lived
// goroutines. Each durable pulls WithPullBatch messages at a time (by
// default the larger of WithMaxInFlight and 64), which bounds the
// client-side buffer. A subject the service consumes without a route is
// validated and acknowledged. The events
// stream and the dead-letter stream must exist (EnsureTopology). ctx
// bounds the set-up; its values reach the handlers. Stop the subscription
// with Stop.
//
// For each message: the envelope is checked against spec.EnvelopeSchema and
// the payload against its event's schema; a message that is not JSON,
// breaks either schema, names another subject than the one it came on or
// an event the service does not consume, or whose handler returns
// Permanent, is dead-lettered at once. A handler error (a panic counts as
// one) has the message redelivered after WithNakDelay, and dead-lettered
// on its MaxDeliver-th delivery. Dead letters keep the original bytes;
// the message is terminated only once its dead letter is stored.
//
// Errors: ErrInvalidOption, ErrUnknownService, ErrNotConsumer,
// ErrUnknownSubject, ErrInvalidRoute, ErrTopology.
func Consume(ctx context.Context, c *Conn, cat *spec.Catalog, service string, routes []Route, opts ...ConsumerOption) (*Subscription, error) {
	o, err := newConsumerOptions(opts)
	if err != nil {
		return nil, err
	}
	if c == nil || cat == nil {
		return nil, fmt.Errorf("%w: nil connection or catalog", ErrInvalidOption)
	}
	if _, ok := cat.Service(service); !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownService, service)
	}
	bysubject := make(map[string]Route, len(routes))
	for _, r := range routes {
		if r.subject == "" {
			return nil, fmt.Errorf("%w: empty subject", ErrInvalidRoute)
		}
		if r.invalid {
			return nil, fmt.Errorf("%w: nil decoder for %q", ErrInvalidRoute, r.subject)
		}
		if _, dup := bysubject[r.subject]; dup {
			return nil, fmt.Errorf("%w: two routes for %q", ErrInvalidRoute, r.subject)
		}
		spec, ok := cat.Event(r.subject)
		if !ok {
			return nil, fmt.Errorf("%w: route for %q", ErrUnknownSubject, r.subject)
		}
		if !slices.Contains(spec.Consumers, service) {
			return nil, fmt.Errorf("%w: %q does not consume %q", ErrNotConsumer, service, r.subject)
		}
		if r, err = wrapRoute(r, o.middleware); err != nil {
			return nil, err
		}
		bysubject[r.subject] = r
	}
	consumers, err := ensureConsumers(ctx, c, cat, service, &o)
	if err != nil {
		return nil, err
	}
	_, queued := o.buffers()
	s := &Subscription{
		conn:    c,
		cat:     cat,
		service: service,
		opts:    o,
		routes:  bysubject,
		queue:   newDeliveryQueue(queued),
		slots:   make([]handlerSlot, o.maxInFlight),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.dlStream, s.dlPrefix = spec.DeadLetters(cat)
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for i := range s.slots {
		s.handleWG.Add(1)
		go s.worker(&s.slots[i])
	}
	for _, cons := range consumers {
		l := &loop{cons: cons}
		cc, err := s.consume(l, cons)
		if err != nil {
			for _, l := range s.loops {
				l.cc.Stop()
			}
			s.queue.halt() // nothing was queued: the workers end
			s.cancel()
			return nil, fmt.Errorf("%w: consumer %q: %w", ErrFetch, cons.config.Durable, err)
		}
		l.cc = cc
		s.loops = append(s.loops, l)
		s.names = append(s.names, cons.config.Durable)
	}
	for _, l := range s.loops {
		s.loopWG.Add(1)
		go s.run(l)
	}
	s.stopMetrics = s.conn.observeConsumers(s.consumerInfos())
	workersDone := make(chan struct{})
	go s.keepAlive(workersDone)
	go func() {
		s.loopWG.Wait()
		s.stopMetrics()
		// No callback runs any more: give back what is still queued.
		for _, msg := range s.queue.halt() {
			s.nak(msg)
		}
		s.handleWG.Wait()
		close(workersDone)
	}()
	return s, nil
}

// minPullBatch is the smallest default pull batch. A batch of 1 (the
// former default with WithMaxInFlight(1)) pulls one message per round
// trip, and nats.go v1.55.0 then often skips the next pull request and
// sits idle until the missed-heartbeat timer fires (see stallCheck).
const minPullBatch = 64

// pullBatch is the client-side buffer: messages received but not handed to
// a handler yet, whose ack timers already run.
func (o *consumerOptions) pullBatch() int {
	if o.batch > 0 {
		return o.batch
	}
	return max(o.maxInFlight, minPullBatch)
}

// buffers splits the pull batch between nats.go, which pulls pull
// messages at a time (and pulls again once half of them were taken), and
// the queue for the workers, which holds at most queued (more with a
// handler scope whose groups are larger). A message counts as taken in
// nats.go once it is queued.
func (o *consumerOptions) buffers() (pull, queued int) {
	n := o.pullBatch()
	queued = max(n/2, 1)
	if o.scope != nil {
		queued = max(queued, o.scopeMax)
	}
	return max(n-n/2, 1), queued
}

// consume starts consuming cons: nats.go calls back, one message at a
// time, on the subscription's goroutine, and the callback queues it for
// the workers (or gives it back with Nak once Stop began).
func (s *Subscription) consume(l *loop, cons boundConsumer) (jetstream.ConsumeContext, error) {
	n, _ := s.opts.buffers()
	name := cons.config.Durable
	return cons.Consume(func(msg jetstream.Msg) {
		l.received.Add(1)
		s.receive(msg)
	},
		jetstream.PullMaxMessages(n), jetstream.PullThresholdMessages(max(n/2, 1)), jetstream.PullExpiry(pullExpiry),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !s.stopping() {
				s.report(fmt.Errorf("%w: consumer %q: %w", ErrFetch, name, err))
			}
		}))
}

// receive is the durables' callback.
func (s *Subscription) receive(msg jetstream.Msg) {
	if !s.queue.push(msg) {
		s.nak(msg) // Stop began
	}
}

// worker runs handlers, one at a time (or a group at a time, see
// WithHandlerScope), until the queue was halted.
func (s *Subscription) worker(slot *handlerSlot) {
	defer s.handleWG.Done()
	most := 1
	var g *group
	if s.opts.scope != nil && s.opts.scopeMax > 1 {
		most, g = s.opts.scopeMax, newGroup(s.opts.scopeMax)
	}
	taken := make([]jetstream.Msg, 0, most)
	for {
		var waited int
		var ok bool
		taken, waited, ok = s.queue.take(taken[:0], most)
		if !ok {
			return
		}
		slot.queued(waited)
		switch {
		case s.stopping():
			// Taken as Stop began: given back like the queued ones.
			for _, msg := range taken {
				s.nak(msg)
			}
		case g != nil:
			s.handleGroup(g, taken, slot)
		default:
			s.handle(taken[0], slot)
		}
		clear(taken)
	}
}

// Consumers returns the names of the durable consumers the subscription
// pulls from: spec.ConsumerName(service), or one per subject on NATS 2.9.
func (s *Subscription) Consumers() []string { return slices.Clone(s.names) }

// Stop stops pulling messages, negatively acknowledges those buffered but
// not started (so they are redelivered at once, possibly to another
// instance), and waits for the running handlers to finish and be
// acknowledged. If ctx ends first, the handlers' context is cancelled and
// Stop returns an error wrapping ErrStopIncomplete and ctx's error.
// Calling Stop again waits again.
func (s *Subscription) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		close(s.stop)
		for _, msg := range s.queue.halt() {
			s.nak(msg)
		}
		for _, l := range s.loops {
			l.drain()
		}
	})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.cancel()
		return fmt.Errorf("%w: %w", ErrStopIncomplete, ctx.Err())
	}
}

func (s *Subscription) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func (s *Subscription) report(err error) { s.opts.errorHandler(err) }

// run watches l's consumer until Stop. When consuming ends on its own (the
// consumer was deleted, say), it recreates the consumer and resumes,
// backing off while that fails: from 100ms doubling up to 5s, each wait
// drawn from the upper half of that (see the module's internal/backoff).
func (s *Subscription) run(l *loop) {
	defer s.loopWG.Done()
	name := l.cons.config.Durable
	retry := backoff.New(backoff.Policy{First: 100 * time.Millisecond, Max: 5 * time.Second})
	cc := l.context()
	watch := time.NewTicker(stallCheck)
	defer watch.Stop()
	var seen uint64
	idle, checked := 0, false
	for {
		if cc != nil {
			select {
			case <-cc.Closed():
				if s.stopping() {
					return
				}
			case <-s.stop:
				// Stop drains cc: its buffered messages reach receive, which
				// gives them back.
				select {
				case <-cc.Closed():
				case <-s.ctx.Done():
					cc.Stop()
				}
				return
			case <-watch.C:
				if n := l.received.Load(); n != seen || s.queue.len() > 0 {
					seen, idle, checked = n, 0, false
					continue
				}
				if idle++; idle < 2 || checked {
					continue
				}
				checked = true
				if !s.stalled(l) {
					continue
				}
				if next := s.restart(l, cc); next != nil {
					cc = next
				}
				continue
			}
		}
		if s.conn.nc.IsClosed() {
			s.report(fmt.Errorf("%w: consumer %q: %w", ErrFetch, name, nats.ErrConnectionClosed))
			return
		}
		t := time.NewTimer(retry.Next())
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.report(fmt.Errorf("%w: consumer %q stopped delivering; recreating it", ErrFetch, name))
		cc = nil
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		cons, err := s.conn.js.CreateOrUpdateConsumer(ctx, s.cat.Stream.Name, l.cons.config)
		cancel()
		if err != nil {
			s.report(fmt.Errorf("%w: recreate consumer %q: %w", ErrFetch, name, err))
			continue
		}
		next, err := s.consume(l, boundConsumer{Consumer: cons, config: l.cons.config})
		if err != nil {
			s.report(fmt.Errorf("%w: consumer %q: %w", ErrFetch, name, err))
			continue
		}
		if !l.set(next) {
			return
		}
		cc = next
		retry.Reset()
	}
}

// stalled reports whether l's durable holds messages it has not delivered
// although l has been idle: no pull request of l's is open.
func (s *Subscription) stalled(l *loop) bool {
	ctx, cancel := context.WithTimeout(s.ctx, stallCheck)
	defer cancel()
	info, err := l.cons.Info(ctx)
	return err == nil && info.NumPending > 0 && s.queue.len() == 0
}

// restart drains cc, whose buffered messages reach the queue, and consumes
// l's durable afresh; it returns the new context, or nil if the loop was
// stopped or consuming could not start again (the caller's cc then ends,
// and run recreates the consumer).
func (s *Subscription) restart(l *loop, cc jetstream.ConsumeContext) jetstream.ConsumeContext {
	next, err := s.consume(l, l.cons)
	if err != nil {
		return nil
	}
	cc.Drain()
	if !l.set(next) {
		return nil
	}
	return next
}

func (s *Subscription) nak(msg jetstream.Msg) {
	if err := msg.Nak(); err != nil {
		s.report(fmt.Errorf("%w: nak %s: %w", ErrAck, msg.Subject(), err))
	}
}

// call is one delivery on its way to its handler: what prepare found, and
// the handler's outcome.
type call struct {
	d       delivery
	route   Route
	md      Metadata
	payload json.RawMessage
	err     error
}

// handle takes one message to its end: ack, delayed nak, or dead letter.
func (s *Subscription) handle(msg jetstream.Msg, slot *handlerSlot) {
	var c call
	if !s.prepare(msg, &c) {
		return
	}
	if c.route.call != nil {
		slot.begin(msg)
		c.err = s.invoke(s.ctx, &c)
		slot.end()
	}
	s.settle(&c)
}

// prepare reads msg's delivery and envelope and checks them into c. It
// returns false when it settled msg itself: a dead letter, a wait for an
// upgrade, a message without metadata.
func (s *Subscription) prepare(msg jetstream.Msg, c *call) bool {
	meta, err := messageMeta(msg)
	if err != nil {
		s.report(fmt.Errorf("%w: message on %s without JetStream metadata: %w", ErrFetch, msg.Subject(), err))
		s.nak(msg)
		return false
	}
	c.d = delivery{msg: msg, meta: meta}
	d := c.d
	var envelope Envelope
	env := &envelope
	if err := decodeEnvelopeShared(env, msg.Data()); err != nil {
		s.deadLetter(d, err.Error())
		return false
	}
	d.eventID, d.hasID = env.ID, true
	c.d = d
	if env.Subject != msg.Subject() {
		s.deadLetter(d, fmt.Sprintf("%v: envelope subject %q sent on %q", ErrInvalidMessage, env.Subject, msg.Subject()))
		return false
	}
	ev, ok := s.cat.Event(env.Subject)
	if !ok || !slices.Contains(ev.Consumers, s.service) {
		s.deadLetter(d, fmt.Sprintf("%v: %q is not an event %q consumes", ErrUnknownSubject, env.Subject, s.service))
		return false
	}
	if env.Source != ev.Publisher {
		// Only its publisher's user may publish on a subject; an envelope
		// that names another source was forged or relayed.
		s.deadLetter(d, fmt.Sprintf("%v: envelope source %q is not %q, the publisher of %q", ErrInvalidMessage, env.Source, ev.Publisher, env.Subject))
		return false
	}
	check, known := ev.Validator(env.Version)
	switch {
	case !known && env.Version > ev.Version:
		s.awaitUpgrade(d, env, ev)
		return false
	case !known:
		s.deadLetter(d, fmt.Sprintf("%v: version %d of %q is not one the catalog keeps (%s)", ErrUnknownVersion, env.Version, env.Subject, versionList(ev)))
		return false
	case check != nil:
		if err := check(env.Payload); err != nil {
			s.deadLetter(d, err.Error())
			return false
		}
	}
	delivered := meta.NumDelivered
	seq := meta.StreamSeq
	switch {
	case s.failures.get(seq) >= s.opts.maxDeliver:
		// Its dead letter could not be stored on an earlier delivery.
		if s.deadLetter(d, fmt.Sprintf("delivery %d is past MaxDeliver %d", delivered, s.opts.maxDeliver)) {
			s.failures.forget(seq)
		}
		return false
	case delivered > uint64(s.opts.maxDeliver+spec.VersionWaitDeliveries):
		s.deadLetter(d, fmt.Sprintf("delivery %d is past MaxDeliver %d and the %d deliveries an event may wait for an upgrade",
			delivered, s.opts.maxDeliver, spec.VersionWaitDeliveries))
		return false
	}
	c.md = Metadata{
		ID:             env.ID,
		Subject:        env.Subject,
		CorrelationID:  env.CorrelationID,
		OrganizationID: env.OrganizationID,
		Timestamp:      env.Timestamp,
		Source:         env.Source,
		Version:        env.Version,
		Delivered:      delivered,
		StreamSequence: seq,
	}
	c.route = s.routes[env.Subject]
	c.payload = env.Payload
	c.err = nil
	return true
}

// settle ends c's delivery by its handler's outcome: ack on success,
// dead letter when permanent or on the last allowed delivery, delayed nak
// otherwise.
func (s *Subscription) settle(c *call) {
	msg, seq, delivered := c.d.msg, c.d.meta.StreamSeq, c.d.meta.NumDelivered
	switch err := c.err; {
	case err == nil:
		s.failures.forget(seq)
		if err := msg.Ack(); err != nil {
			s.report(fmt.Errorf("%w: ack %s: %w", ErrAck, msg.Subject(), err))
		}
	case errors.Is(err, ErrPermanent):
		s.failures.forget(seq)
		s.deadLetter(c.d, err.Error())
	default:
		// The handler's attempts are counted here, not by the delivery
		// count, which also counts the deliveries an event spent waiting
		// for an upgrade (awaitUpgrade).
		failed := s.failures.add(seq)
		if failed >= s.opts.maxDeliver || delivered >= uint64(s.opts.maxDeliver+spec.VersionWaitDeliveries) {
			// Kept when the dead letter fails: the next delivery goes
			// straight to the dead letters.
			if s.deadLetter(c.d, fmt.Sprintf("handler failed on delivery %d of %d: %v", delivered, s.opts.maxDeliver, err)) {
				s.failures.forget(seq)
			}
			return
		}
		s.nakWithDelay(msg, uint64(failed))
	}
}

// awaitUpgrade handles an event of a version newer than the catalog the
// consumer was built with: it is redelivered with a growing delay until
// WithVersionPatience has passed since it was stored, each wait reported
// with ErrUnknownVersion, and then dead-lettered with a reason that says
// to upgrade the consumer and replay it.
func (s *Subscription) awaitUpgrade(d delivery, env *Envelope, ev *spec.Event) {
	waited := time.Since(d.meta.Timestamp)
	if waited < s.opts.versionPatience && d.meta.NumDelivered <= spec.VersionWaitDeliveries {
		delay := versionWait(d.meta.NumDelivered, s.opts.versionPatience)
		s.report(fmt.Errorf("%w: %s (event %s) is version %d; %q knows %s: waiting for an upgrade, next try in %v (waited %v of %v)",
			ErrUnknownVersion, env.Subject, env.ID, env.Version, s.service, versionList(ev),
			delay.Round(time.Millisecond), waited.Round(time.Second), s.opts.versionPatience))
		if err := d.msg.NakWithDelay(delay); err != nil {
			s.report(fmt.Errorf("%w: nak %s: %w", ErrAck, d.msg.Subject(), err))
		}
		return
	}
	s.deadLetter(d, fmt.Sprintf("%v: %s is version %d, newer than %q knows (%s), after waiting %v: upgrade the consumer, then replay this dead letter",
		ErrUnknownVersion, env.Subject, env.Version, s.service, versionList(ev), waited.Round(time.Second)))
}

// versionWait is the delay before the next delivery of an event waiting
// for an upgrade, after its delivered-th delivery: doubling, so that the
// spec.VersionWaitDeliveries deliveries span patience (the first after
// patience/4095, the last after half of it).
func versionWait(delivered uint64, patience time.Duration) time.Duration {
	const n = spec.VersionWaitDeliveries
	k := min(max(delivered, 1), n) - 1
	return max(time.Duration(float64(patience)*float64(uint64(1)<<k)/float64(uint64(1)<<n-1)), 10*time.Millisecond)
}

func (s *Subscription) nakWithDelay(msg jetstream.Msg, delivered uint64) {
	if err := msg.NakWithDelay(s.opts.nakDelay(delivered)); err != nil {
		s.report(fmt.Errorf("%w: nak %s: %w", ErrAck, msg.Subject(), err))
	}
}

// invoke runs c's handler with a context of parent carrying the event's
// trace and correlation, turning a panic into an error. The caller keeps
// the message alive (handlerSlot).
func (s *Subscription) invoke(parent context.Context, c *call) (err error) {
	if c.route.call == nil {
		return nil
	}
	ctx := withEvent(extractTrace(parent, c.d.msg.Headers()), &c.md)
	group := c.d.meta.Consumer
	ctx, span := startProcess(ctx, c.md.Subject, group, c.md.ID, c.md.Delivered)
	start := s.conn.consumeStart(ctx, &s.metricSets, c.md.Subject, group, c.md.Delivered)
	defer func() { // after the recover below has made a panic err
		s.conn.processed(ctx, &s.metricSets, c.md.Subject, group, start, err)
		endSpan(span, err)
	}()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v [%s]", ErrHandlerPanic, v, panicStack())
		}
	}()
	return c.route.call(ctx, c.md, c.payload)
}

// consumerInfos returns, for each durable of s, the poll of its pending
// and ack-pending counts that the consumer gauges report.
func (s *Subscription) consumerInfos() map[string]consumerInfo {
	infos := make(map[string]consumerInfo, len(s.loops))
	for _, l := range s.loops {
		cons := l.cons.Consumer
		infos[l.cons.config.Durable] = func(ctx context.Context) (int64, int64, error) {
			info, err := cons.Info(ctx)
			if err != nil {
				return 0, 0, err
			}
			return int64(info.NumPending), int64(info.NumAckPending), nil
		}
	}
	return infos
}

// panicStack returns the frames of the panicking code, innermost first,
// at most eight, as "function file:line" separated by " < ".
func panicStack() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	seenPanic := false
	for {
		f, more := frames.Next()
		if seenPanic && len(out) < 8 {
			out = append(out, fmt.Sprintf("%s %s:%d", f.Function, f.File, f.Line))
		}
		if f.Function == "runtime.gopanic" {
			seenPanic = true
		}
		if !more {
			break
		}
	}
	return strings.Join(out, " < ")
}

// delivery is a message with what is known about it so far.
type delivery struct {
	msg     jetstream.Msg
	meta    deliveryMeta
	eventID uuid.UUID // when hasID: the envelope could be read
	hasID   bool
}

// maxReasonLen bounds the dead-letter reason header.
const maxReasonLen = 2048

// deadLetter stores the message in the dead-letter stream, then
// terminates it, and reports whether it stored it. If the dead letter
// cannot be stored, the message is negatively acknowledged instead, to be
// tried again.
func (s *Subscription) deadLetter(d delivery, reason string) (stored bool) {
	msg, meta := d.msg, d.meta
	dl := &nats.Msg{
		Subject: s.dlPrefix + "." + s.service + "." + msg.Subject(),
		Data:    msg.Data(),
		Header:  nats.Header{},
	}
	dl.Header.Set(HeaderDeadLetterReason, headerValue(reason, maxReasonLen))
	dl.Header.Set(HeaderOriginalSubject, msg.Subject())
	dl.Header.Set(HeaderConsumer, meta.Consumer)
	dl.Header.Set(HeaderDeliveryCount, strconv.FormatUint(meta.NumDelivered, 10))
	dl.Header.Set(HeaderStreamSequence, strconv.FormatUint(meta.StreamSeq, 10))
	if d.hasID {
		dl.Header.Set(HeaderEventID, d.eventID.String())
	}
	ctx, cancel := context.WithTimeout(s.ctx, max(s.opts.ackWait/2, time.Second))
	defer cancel()
	msgID := fmt.Sprintf("dlq-%s-%d", meta.Consumer, meta.StreamSeq)
	if _, err := s.conn.js.PublishMsg(ctx, dl, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(s.dlStream)); err != nil {
		s.report(fmt.Errorf("%w: %s (stream sequence %d) to %s: %w", ErrDeadLetter, msg.Subject(), meta.StreamSeq, dl.Subject, err))
		s.nakWithDelay(msg, meta.NumDelivered)
		return false
	}
	if err := msg.Term(); err != nil {
		s.report(fmt.Errorf("%w: term %s: %w", ErrAck, msg.Subject(), err))
	}
	s.conn.deadLettered(ctx, msg.Subject(), meta.Consumer, deadLetterKind(reason))
	return true
}

// headerValue makes s fit a header: one line, at most n bytes.
func headerValue(s string, n int) string {
	s = strings.NewReplacer("\r\n", " | ", "\n", " | ", "\r", " ").Replace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
