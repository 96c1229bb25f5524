package bus

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/messagingconv"
)

// Metrics go through OpenTelemetry's global MeterProvider
// (otel.SetMeterProvider), as trace context goes through its global
// propagator, unless the connection has a provider of its own
// (WithMeterProvider), which its publishers and subscriptions use. The instruments are made once, from the global provider,
// which hands them to the provider set later; until one is set, every
// instrument reports itself disabled, and each call site checks Enabled
// before it reads the clock or builds an attribute: a service without
// metrics pays one atomic load per measurement.
//
// The names follow OpenTelemetry's messaging semantic conventions where
// they have one (messaging.system "nats", messaging.destination.name the
// subject, messaging.consumer.group.name the durable consumer); the rest
// are the SDK's own, under "giia.".

// InstrumentationName is the name of the SDK's meter (and tracer).
const InstrumentationName = "github.com/giia/events/sdk/bus"

// Metric names of the SDK's own series, besides the semantic conventions'
// messaging.client.operation.duration, messaging.client.sent.messages,
// messaging.client.consumed.messages and messaging.process.duration.
const (
	MetricDeadLetters        = "giia.messaging.dead_letters"   // counter, by giia.dead_letter.reason
	MetricRedeliveries       = "giia.messaging.redeliveries"   // counter: deliveries after the first
	MetricConsumerPending    = "giia.consumer.pending"         // gauge: stored, not yet delivered
	MetricConsumerAckPending = "giia.consumer.ack_pending"     // gauge: delivered, not yet acknowledged
	AttrDeadLetterReason     = "giia.dead_letter.reason"       // why a message was dead-lettered
	attrDestination          = "messaging.destination.name"    // the subject
	attrConsumerGroup        = "messaging.consumer.group.name" // the durable consumer
	attrErrorType            = "error.type"
)

// messagingSystem is messaging.system: the conventions list no value for
// NATS, so its own name, as the issue and other NATS instrumentations use.
const messagingSystem = "nats"

// Operation names of messaging.client.operation.duration.
const (
	opPublish = "publish" // a synchronous publish, until the stream's ack
	opAck     = "ack"     // settling a delivery
)

// instruments are the SDK's metric instruments.
type instruments struct {
	operation    messagingconv.ClientOperationDuration
	sent         messagingconv.ClientSentMessages
	consumed     messagingconv.ClientConsumedMessages
	process      messagingconv.ProcessDuration
	deadLetters  metric.Int64Counter
	redeliveries metric.Int64Counter
	pending      metric.Int64ObservableGauge
	ackPending   metric.Int64ObservableGauge
	meter        metric.Meter
	provider     metric.MeterProvider // the one they were made from
}

// meters returns the SDK's instruments, made from the global
// MeterProvider, and made again when another provider is set: the global
// provider hands instruments made before the first otel.SetMeterProvider
// to that provider, but not to one set after it. An instrument that
// cannot be made (a provider refusing a name) is a no-op: metrics never
// stop an event.
func meters() *instruments {
	mp := otel.GetMeterProvider()
	if in := current.Load(); in != nil && in.provider == mp {
		return in
	}
	in := newInstruments(mp)
	current.Store(in)
	return in
}

// current holds the instruments of the provider last seen.
var current atomic.Pointer[instruments]

// meters returns c's instruments: those of its own provider
// (WithMeterProvider), else the global provider's. A nil c is the
// global provider's.
func (c *Conn) meters() *instruments {
	if c != nil && c.metrics != nil {
		return c.metrics
	}
	return meters()
}

func newInstruments(mp metric.MeterProvider) *instruments {
	m := mp.Meter(InstrumentationName)
	in := &instruments{provider: mp, meter: m}
	in.operation, _ = messagingconv.NewClientOperationDuration(m)
	in.sent, _ = messagingconv.NewClientSentMessages(m)
	in.consumed, _ = messagingconv.NewClientConsumedMessages(m)
	in.process, _ = messagingconv.NewProcessDuration(m)
	in.deadLetters, _ = m.Int64Counter(MetricDeadLetters,
		metric.WithDescription("Messages dead-lettered, by reason."), metric.WithUnit("{message}"))
	in.redeliveries, _ = m.Int64Counter(MetricRedeliveries,
		metric.WithDescription("Deliveries of a message after its first."), metric.WithUnit("{message}"))
	in.pending, _ = m.Int64ObservableGauge(MetricConsumerPending,
		metric.WithDescription("Messages of the stream the durable consumer has not delivered yet."), metric.WithUnit("{message}"))
	in.ackPending, _ = m.Int64ObservableGauge(MetricConsumerAckPending,
		metric.WithDescription("Messages the durable consumer delivered that are not acknowledged yet."), metric.WithUnit("{message}"))
	return in
}

// publishAttrs is the attribute set of publish measurements on subject.
func publishAttrs(subject string) attribute.Set {
	return attribute.NewSet(
		attribute.String("messaging.system", messagingSystem),
		attribute.String("messaging.operation.name", opPublish),
		attribute.String("messaging.operation.type", string(messagingconv.OperationTypeSend)),
		attribute.String(attrDestination, subject),
	)
}

// consumeAttrs is the attribute set of consume measurements of subject by
// the durable consumer group.
func consumeAttrs(subject, group string) attribute.Set {
	return attribute.NewSet(
		attribute.String("messaging.system", messagingSystem),
		attribute.String("messaging.operation.name", "process"),
		attribute.String("messaging.operation.type", string(messagingconv.OperationTypeProcess)),
		attribute.String(attrDestination, subject),
		attribute.String(attrConsumerGroup, group),
	)
}

// withError returns set and error.type: the error's kind, when err is not
// nil.
func withError(set attribute.Set, err error) attribute.Set {
	if err == nil {
		return set
	}
	kvs := append(set.ToSlice(), attribute.String(attrErrorType, errorType(err)))
	return attribute.NewSet(kvs...)
}

// errorKinds are the values of error.type: the SDK's errors a caller
// branches on, most specific first.
var errorKinds = []struct {
	err  error
	name string
}{
	{ErrPermissionDenied, "permission_denied"},
	{ErrInvalidPayload, "invalid_payload"},
	{ErrUnknownVersion, "unknown_version"},
	{ErrHandlerPanic, "handler_panic"},
	{ErrPermanent, "permanent"},
	{context.DeadlineExceeded, "timeout"},
	{context.Canceled, "canceled"},
	{ErrPublishFailed, "publish_failed"},
}

// errorType is the low-cardinality class of err for error.type: the
// SDK's sentinel it wraps, else "_OTHER" as the conventions say.
func errorType(err error) string {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "_OTHER"
}

// publishStart returns the time a publish starts, or the zero time when
// no MeterProvider records publishes: then published records nothing.
func (c *Conn) publishStart(ctx context.Context) time.Time {
	in := c.meters()
	if !in.sent.Inst().Enabled(ctx) && !in.operation.Inst().Enabled(ctx) {
		return time.Time{}
	}
	return time.Now()
}

// published records a publish on subject that started at start (from
// publishStart) and ended with err: its duration until the stream's ack,
// and on success the message sent.
func (c *Conn) published(ctx context.Context, sets *sync.Map, subject string, start time.Time, err error) {
	if start.IsZero() {
		return
	}
	in := c.meters()
	set := withError(cachedSet(sets, subject, publishAttrs), err)
	in.operation.RecordSet(ctx, time.Since(start).Seconds(), set)
	if err == nil {
		in.sent.AddSet(ctx, 1, set)
	}
}

// cachedSet returns newSet(key) from sets, making it once.
func cachedSet(sets *sync.Map, key string, newSet func(string) attribute.Set) attribute.Set {
	if v, ok := sets.Load(key); ok {
		return v.(attribute.Set)
	}
	set := newSet(key)
	sets.Store(key, set)
	return set
}

// consumeStart counts a delivery of subject to the durable consumer
// group that is handed to its handler, and a redelivery when it is not
// the first; it returns the time the handler starts, or the zero time
// when no MeterProvider records consumption.
func (c *Conn) consumeStart(ctx context.Context, sets *sync.Map, subject, group string, delivered uint64) time.Time {
	in := c.meters()
	if !in.consumed.Inst().Enabled(ctx) && !in.process.Inst().Enabled(ctx) {
		return time.Time{}
	}
	set := consumeSet(sets, subject, group)
	in.consumed.AddSet(ctx, 1, set)
	if delivered > 1 {
		in.redeliveries.Add(ctx, 1, metric.WithAttributeSet(set))
	}
	return time.Now()
}

// processed records the duration and outcome of a handler's call that
// started at start (from consumeStart).
func (c *Conn) processed(ctx context.Context, sets *sync.Map, subject, group string, start time.Time, err error) {
	if start.IsZero() {
		return
	}
	c.meters().process.RecordSet(ctx, time.Since(start).Seconds(), withError(consumeSet(sets, subject, group), err))
}

// consumeSet is consumeAttrs(subject, group), made once per pair.
func consumeSet(sets *sync.Map, subject, group string) attribute.Set {
	return cachedSet(sets, subject+" "+group, func(string) attribute.Set { return consumeAttrs(subject, group) })
}

// deadLetterKinds classify dead-letter reasons for the reason attribute:
// the first whose text the reason holds, most specific first.
var deadLetterKinds = []struct{ text, kind string }{
	{ErrUnknownVersion.Error(), "unknown_version"},
	{ErrUnknownSubject.Error(), "unknown_subject"},
	{ErrInvalidPayload.Error(), "invalid_payload"},
	{ErrInvalidMessage.Error(), "invalid_message"},
	{"past MaxDeliver", "max_deliver"},
	{ErrHandlerPanic.Error(), "handler_panic"},
	{"permanent: ", "permanent"}, // permanentError's text
	{"handler failed", "handler_failed"},
}

// deadLetterKind is the low-cardinality class of a dead letter's reason,
// "other" when none fits.
func deadLetterKind(reason string) string {
	for _, k := range deadLetterKinds {
		if strings.Contains(reason, k.text) {
			return k.kind
		}
	}
	return "other"
}

// deadLettered counts a message of subject dead-lettered by group for
// reason, a class of deadLetterKind.
func (c *Conn) deadLettered(ctx context.Context, subject, group, reason string) {
	in := c.meters()
	if !in.deadLetters.Enabled(ctx) {
		return
	}
	in.deadLetters.Add(ctx, 1, metric.WithAttributes(
		attribute.String("messaging.system", messagingSystem),
		attribute.String(attrDestination, subject),
		attribute.String(attrConsumerGroup, group),
		attribute.String(AttrDeadLetterReason, reason),
	))
}

// consumerInfo is what observeConsumers polls: a durable consumer's
// numbers (jetstream.Consumer.Info's NumPending and NumAckPending).
type consumerInfo func(ctx context.Context) (pending, ackPending int64, err error)

// observeConsumers reports the pending and ack-pending gauges of the
// named durable consumers, polled from the server at each collection,
// until the returned function is called. A poll that fails reports
// nothing for that consumer, that time.
func (c *Conn) observeConsumers(consumers map[string]consumerInfo) (stop func()) {
	in := c.meters()
	sets := make(map[string]attribute.Set, len(consumers))
	for name := range consumers {
		sets[name] = attribute.NewSet(
			attribute.String("messaging.system", messagingSystem),
			attribute.String(attrConsumerGroup, name),
		)
	}
	reg, err := in.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		for name, info := range consumers {
			pending, ackPending, err := info(ctx)
			if err != nil {
				continue
			}
			o.ObserveInt64(in.pending, pending, metric.WithAttributeSet(sets[name]))
			o.ObserveInt64(in.ackPending, ackPending, metric.WithAttributeSet(sets[name]))
		}
		return nil
	}, in.pending, in.ackPending)
	if err != nil {
		return func() {}
	}
	return func() { _ = reg.Unregister() }
}
