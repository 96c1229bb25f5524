package bus

import (
	"context"
	"strconv"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Spans follow OpenTelemetry's messaging conventions: a "send <subject>"
// span of kind producer around each publish, whose context is the one the
// message carries, and a "process <subject>" span of kind consumer around
// each handler call, a child of the context the message carried. They go
// through the global TracerProvider (otel.SetTracerProvider); until one is
// set, no span is started at all, so tracing costs a service that does not
// trace one atomic load per event.

// defaultTracerProvider is the global provider before any is set: while
// otel.GetTracerProvider returns it, the SDK starts no span.
var defaultTracerProvider = otel.GetTracerProvider()

// tracer returns the SDK's tracer, or nil while no TracerProvider is set.
func tracer() trace.Tracer {
	tp := otel.GetTracerProvider()
	if tp == defaultTracerProvider {
		return nil
	}
	return tp.Tracer(InstrumentationName)
}

// startSend starts the send span of a publish of the message id on
// subject. Without a TracerProvider it returns ctx and a nil span.
func startSend(ctx context.Context, subject string, id uuid.UUID) (context.Context, trace.Span) {
	t := tracer()
	if t == nil {
		return ctx, nil
	}
	return startSpan(ctx, t, "send", trace.SpanKindProducer, subject, id)
}

// startProcess starts the process span of a handler's call for the
// message id of subject, delivered the delivered-th time to the durable
// consumer group. Without a TracerProvider it returns ctx and a nil span.
func startProcess(ctx context.Context, subject, group string, id uuid.UUID, delivered uint64) (context.Context, trace.Span) {
	t := tracer()
	if t == nil { // before building the attributes: a consumer without tracing pays nothing
		return ctx, nil
	}
	return startSpan(ctx, t, "process", trace.SpanKindConsumer, subject, id,
		attribute.String(attrConsumerGroup, group),
		attribute.String("messaging.nats.delivery_count", strconv.FormatUint(delivered, 10)))
}

// startSpan starts with t the span "<operation> <subject>" of kind, with
// the messaging attributes every span of the SDK has, and extra.
func startSpan(ctx context.Context, t trace.Tracer, operation string, kind trace.SpanKind, subject string, id uuid.UUID, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	attrs := append([]attribute.KeyValue{
		attribute.String("messaging.system", messagingSystem),
		attribute.String("messaging.operation.name", operation),
		attribute.String("messaging.operation.type", operation),
		attribute.String(attrDestination, subject),
		attribute.String("messaging.message.id", id.String()),
	}, extra...)
	return t.Start(ctx, operation+" "+subject, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// endSpan ends span (nil: nothing to end), recording err as its status
// and error.type.
func endSpan(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(attribute.String(attrErrorType, errorType(err)))
	}
	span.End()
}
