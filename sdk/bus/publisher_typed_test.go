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
	"github.com/giia/events/sdk/payload"
)

// typedOrder is a payload.Payload, as the generated types are: it checks
// and encodes itself, counting the calls.
type typedOrder struct {
	orderCreated
	subject    string
	validates  *atomic.Int64
	appends    *atomic.Int64
	plainError bool // Validate fails with an error that is not a *payload.ValidationError
	failAppend bool
	version    int // 0: 2, the catalog's current version of orders.created
}

func (o *typedOrder) EventSubject() string { return o.subject }

func (o *typedOrder) EventVersion() int {
	if o.version == 0 {
		return 2
	}
	return o.version
}

func (o *typedOrder) Validate() error {
	if o == nil {
		return &payload.ValidationError{Violations: []payload.Violation{{Message: "payload must be a JSON object"}}}
	}
	o.validates.Add(1)
	if o.plainError {
		return errors.New("broken")
	}
	var vs []payload.Violation
	if o.SKU == "" {
		vs = append(vs, payload.Violation{Pointer: "/sku", Message: "minLength: got 0, want 1"})
	}
	if o.Quantity < 1 {
		vs = append(vs, payload.Violation{Pointer: "/quantity", Message: "minimum: got 0, want 1"})
	}
	if len(vs) > 0 {
		return &payload.ValidationError{Violations: vs}
	}
	return nil
}

func (o *typedOrder) AppendJSON(dst []byte) ([]byte, error) {
	o.appends.Add(1)
	if o.failAppend {
		return dst, errors.New("cannot append")
	}
	data, err := json.Marshal(o.orderCreated)
	return append(dst, data...), err
}

var _ payload.Payload = (*typedOrder)(nil)

// countRawChecks counts the checks of encoded bytes of the orders.created
// event of e's catalog.
func countRawChecks(t *testing.T, e *env) *atomic.Int64 {
	t.Helper()
	ev, ok := e.Cat.Event(e.Cat.Subject("orders.created"))
	require.True(t, ok)
	raw := new(atomic.Int64)
	validateJSON := ev.ValidateJSON
	ev.ValidateJSON = func(data []byte) error {
		raw.Add(1)
		return validateJSON(data)
	}
	return raw
}

func TestPublishValidatesTypedValuesOnce(t *testing.T) {
	e := newEnv(t)
	raw := countRawChecks(t, e)
	pub := e.Publisher(t, "orders")
	subject := e.Cat.Subject("orders.created")
	validates, appends := new(atomic.Int64), new(atomic.Int64)
	order := &typedOrder{orderCreated: newOrder(), subject: subject, validates: validates, appends: appends}

	_, err := pub.Publish(ctx(t), subject, order)
	require.NoError(t, err)
	_, err = pub.PublishPayload(ctx(t), order)
	require.NoError(t, err)
	f, err := pub.PublishPayloadAsync(ctx(t), order)
	require.NoError(t, err)
	last, err := f.Wait(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, int64(3), validates.Load(), "the typed check")
	assert.Equal(t, int64(3), appends.Load(), "the typed encoding")
	assert.Equal(t, int64(0), raw.Load(), "and not the check of the bytes")

	stream, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	msg, err := stream.GetMsg(ctx(t), last.Sequence)
	require.NoError(t, err)
	var env bus.Envelope
	require.NoError(t, json.Unmarshal(msg.Data, &env))
	want, err := json.Marshal(order.orderCreated)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(env.Payload))

	// Any other value: encoded by encoding/json, the bytes checked.
	_, err = pub.Publish(ctx(t), subject, map[string]any{"order_id": uuid.NewString(), "sku": "A", "quantity": 1})
	require.NoError(t, err)
	_, err = pub.Publish(ctx(t), subject, newOrder())
	require.NoError(t, err)
	assert.Equal(t, int64(2), raw.Load())

	_, err = pub.PublishPayload(ctx(t), &typedOrder{orderCreated: orderCreated{OrderID: uuid.New()}, subject: subject, validates: validates, appends: appends})
	var ve *payload.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, subject, ve.Subject, "the subject is filled in")
	assert.Len(t, ve.Violations, 2)
	_, err = pub.Publish(ctx(t), subject, (*typedOrder)(nil))
	require.ErrorAs(t, err, &ve, "a nil pointer is null, not an object")
	assert.Contains(t, ve.Error(), "payload must be a JSON object")
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)

	// A payload of another event is refused, whatever subject it is given.
	other := &typedOrder{orderCreated: newOrder(), subject: e.Cat.Subject("orders.cancelled"), validates: validates, appends: appends}
	_, err = pub.Publish(ctx(t), subject, other)
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	assert.Contains(t, err.Error(), "orders.cancelled")

	// A version the catalog does not keep is refused.
	_, err = pub.PublishPayload(ctx(t), &typedOrder{orderCreated: newOrder(), subject: subject, validates: validates, appends: appends, version: 1})
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	assert.ErrorContains(t, err, "version 1 is not one the catalog keeps (2)")
	assert.Equal(t, uint64(5), e.StreamMsgs(t, e.Cat.Stream.Name), "nothing invalid sent")
}

func TestPublishTypedValidatorPlainError(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	order := &typedOrder{orderCreated: newOrder(), subject: e.Cat.Subject("orders.created"),
		validates: new(atomic.Int64), appends: new(atomic.Int64), plainError: true}
	_, err := pub.PublishPayload(ctx(t), order)
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	assert.Contains(t, err.Error(), "broken")
}

func TestPublishTypedEncodingError(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	order := &typedOrder{orderCreated: newOrder(), subject: e.Cat.Subject("orders.created"),
		validates: new(atomic.Int64), appends: new(atomic.Int64), failAppend: true}
	_, err := pub.PublishPayload(ctx(t), order)
	var ve *payload.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Error(), "cannot encode payload: cannot append")
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.Name))
}
