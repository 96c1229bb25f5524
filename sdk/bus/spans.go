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
	return t.Start(ctx, "send "+subject,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", messagingSystem),
			attribute.String("messaging.operation.name", "send"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String(attrDestination, subject),
			attribute.String("messaging.message.id", id.String()),
		))
}

// startProcess starts the process span of a handler's call for the
// message id of subject, delivered the delivered-th time to the durable
// consumer group. Without a TracerProvider it returns ctx and a nil span.
func startProcess(ctx context.Context, subject, group string, id uuid.UUID, delivered uint64) (context.Context, trace.Span) {
	t := tracer()
	if t == nil {
		return ctx, nil
	}
	return t.Start(ctx, "process "+subject,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", messagingSystem),
			attribute.String("messaging.operation.name", "process"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String(attrDestination, subject),
			attribute.String(attrConsumerGroup, group),
			attribute.String("messaging.message.id", id.String()),
			attribute.String("messaging.nats.delivery_count", strconv.FormatUint(delivered, 10)),
		))
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
