package bus

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestNoSpansWithoutATracerProvider(t *testing.T) {
	ctx := context.Background()
	got, span := startSend(ctx, "a.b", uuid.New())
	assert.Nil(t, span)
	assert.Equal(t, ctx, got)
	endSpan(span, errors.New("nothing to end"))
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, s := startProcess(ctx, "a.b", "g", uuid.Nil, 1234)
		endSpan(s, nil)
	}))
}

func TestSendAndProcessSpans(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	id := uuid.New()
	ctx, send := startSend(context.Background(), "execution.order.created", id)
	require.NotNil(t, send)
	endSpan(send, nil)
	_, process := startProcess(ctx, "execution.order.created", "ddmrp-service", id, 2)
	endSpan(process, errors.New("boom"))

	ended := spans.Ended()
	require.Len(t, ended, 2)
	s, p := ended[0], ended[1]
	assert.Equal(t, "send execution.order.created", s.Name())
	assert.Equal(t, trace.SpanKindProducer, s.SpanKind())
	assert.Contains(t, s.Attributes(), attribute.String("messaging.message.id", id.String()))
	assert.Contains(t, s.Attributes(), attribute.String("messaging.system", "nats"))
	assert.Equal(t, "process execution.order.created", p.Name())
	assert.Equal(t, trace.SpanKindConsumer, p.SpanKind())
	assert.Equal(t, s.SpanContext().SpanID(), p.Parent().SpanID())
	assert.Contains(t, p.Attributes(), attribute.String("messaging.consumer.group.name", "ddmrp-service"))
	assert.Contains(t, p.Attributes(), attribute.String("error.type", "_OTHER"))
	assert.Equal(t, codes.Error, p.Status().Code)
}
