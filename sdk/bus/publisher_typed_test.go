package bus_test

import (
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
)

// withTypedValidation gives the orders.created event of e's catalog a
// ValidateValue for orderCreated values and pointers, as the generated
// catalog does for its own types, and counts the checks of each kind.
func withTypedValidation(t *testing.T, e *env) (typed, raw *atomic.Int64) {
	t.Helper()
	spec, ok := e.cat.Event(e.cat.subject("orders.created"))
	require.True(t, ok)
	typed, raw = new(atomic.Int64), new(atomic.Int64)
	validateJSON := spec.ValidateJSON
	spec.ValidateJSON = func(data []byte) error {
		raw.Add(1)
		return validateJSON(data)
	}
	check := func(o *orderCreated) error {
		typed.Add(1)
		var vs []bus.Violation
		if o == nil {
			return &bus.ValidationError{Violations: []bus.Violation{{Message: "want object, got null"}}}
		}
		if o.SKU == "" {
			vs = append(vs, bus.Violation{Pointer: "/sku", Message: "minLength: got 0, want 1"})
		}
		if o.Quantity < 1 {
			vs = append(vs, bus.Violation{Pointer: "/quantity", Message: "minimum: got 0, want 1"})
		}
		if len(vs) > 0 {
			return &bus.ValidationError{Violations: vs}
		}
		return nil
	}
	spec.ValidateValue = func(v any) (bool, error) {
		switch o := v.(type) {
		case orderCreated:
			return true, check(&o)
		case *orderCreated:
			return true, check(o)
		}
		return false, nil
	}
	return typed, raw
}

func TestPublishValidatesTypedValuesOnce(t *testing.T) {
	e := newEnv(t)
	typed, raw := withTypedValidation(t, e)
	pub := e.publisher(t, "orders")
	subject := e.cat.subject("orders.created")

	order := newOrder()
	_, err := pub.Publish(ctx(t), subject, order)
	require.NoError(t, err)
	_, err = pub.Publish(ctx(t), subject, &order)
	require.NoError(t, err)
	f, err := pub.PublishAsync(ctx(t), subject, order)
	require.NoError(t, err)
	_, err = f.Wait(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, int64(3), typed.Load(), "the typed check")
	assert.Equal(t, int64(0), raw.Load(), "and not the check of the bytes")

	// Another type: the bytes are checked.
	_, err = pub.Publish(ctx(t), subject, map[string]any{"order_id": uuid.NewString(), "sku": "A", "quantity": 1})
	require.NoError(t, err)
	assert.Equal(t, int64(1), raw.Load())

	_, err = pub.Publish(ctx(t), subject, orderCreated{OrderID: uuid.New()})
	var ve *bus.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, subject, ve.Subject, "the subject is filled in")
	assert.Len(t, ve.Violations, 2)
	_, err = pub.Publish(ctx(t), subject, (*orderCreated)(nil))
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	assert.Equal(t, uint64(4), e.streamMsgs(t, e.cat.Stream.Name), "nothing invalid sent")
}

func TestPublishTypedValidatorPlainError(t *testing.T) {
	e := newEnv(t)
	spec, ok := e.cat.Event(e.cat.subject("orders.created"))
	require.True(t, ok)
	spec.ValidateValue = func(any) (bool, error) { return true, errors.New("broken") }
	pub := e.publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.cat.subject("orders.created"), newOrder())
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	assert.Contains(t, err.Error(), "broken")
}

// appendingOrder encodes itself, counting the calls.
type appendingOrder struct {
	orderCreated
	calls *atomic.Int64
	fail  bool
}

func (o appendingOrder) AppendJSON(dst []byte) ([]byte, error) {
	o.calls.Add(1)
	if o.fail {
		return dst, errors.New("cannot append")
	}
	data, err := json.Marshal(o.orderCreated)
	return append(dst, data...), err
}

var _ bus.JSONAppender = appendingOrder{}

func TestPublishUsesJSONAppender(t *testing.T) {
	e := newEnv(t)
	pub := e.publisher(t, "orders")
	subject := e.cat.subject("orders.created")
	calls := new(atomic.Int64)
	order := appendingOrder{orderCreated: newOrder(), calls: calls}

	ack, err := pub.Publish(ctx(t), subject, order)
	require.NoError(t, err)
	_, err = pub.Publish(ctx(t), subject, &order)
	require.NoError(t, err)
	f, err := pub.PublishAsync(ctx(t), subject, order)
	require.NoError(t, err)
	last, err := f.Wait(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, int64(3), calls.Load())
	stream, err := e.conn.JetStream().Stream(ctx(t), e.cat.Stream.Name)
	require.NoError(t, err)
	msg, err := stream.GetMsg(ctx(t), last.Sequence)
	require.NoError(t, err)
	var env bus.Envelope
	require.NoError(t, json.Unmarshal(msg.Data, &env))
	want, err := json.Marshal(order.orderCreated)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(env.Payload))
	assert.NotZero(t, ack.Sequence)

	_, err = pub.Publish(ctx(t), subject, appendingOrder{orderCreated: newOrder(), calls: calls, fail: true})
	var ve *bus.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Error(), "cannot encode payload: cannot append")

	_, err = pub.Publish(ctx(t), subject, (*appendingOrder)(nil))
	require.ErrorAs(t, err, &ve, "a nil pointer is null, not an object")
	assert.Contains(t, ve.Error(), "payload must be a JSON object")

	invalid := appendingOrder{orderCreated: orderCreated{OrderID: uuid.New()}, calls: calls}
	_, err = pub.Publish(ctx(t), subject, invalid)
	require.ErrorAs(t, err, &ve, "the appended bytes are validated")
}
