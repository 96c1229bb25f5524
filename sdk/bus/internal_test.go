package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/giia/events/sdk/payload"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
)

func TestServerAtLeast(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"2.9.25", false},
		{"v2.9.0", false},
		{"1.4.1", false},
		{"2.10.0", true},
		{"2.10.0-beta.1", true},
		{"2.15.2", true},
		{"3.0.0", true},
		{"", true},
		{"x.y", true},
	} {
		assert.Equal(t, tc.want, serverAtLeast(tc.version, 2, 10), tc.version)
	}
}

func TestDefaultNakDelay(t *testing.T) {
	assert.Equal(t, 100*time.Millisecond, DefaultNakDelay(0))
	assert.Equal(t, 100*time.Millisecond, DefaultNakDelay(1))
	assert.Equal(t, 200*time.Millisecond, DefaultNakDelay(2))
	assert.Equal(t, 6400*time.Millisecond, DefaultNakDelay(7))
	assert.Equal(t, 10*time.Second, DefaultNakDelay(8))
	assert.Equal(t, 10*time.Second, DefaultNakDelay(1000))
}

func TestHeaderValue(t *testing.T) {
	assert.Equal(t, "a | b | c d", headerValue("a\nb\r\nc\rd", 100))
	assert.Equal(t, "abc...", headerValue("abcdef", 3))
	assert.Equal(t, "é...", headerValue("éé", 3), "cut on a rune boundary")
}

func TestTransient(t *testing.T) {
	for _, err := range []error{
		context.DeadlineExceeded, nats.ErrTimeout, nats.ErrNoResponders, jetstream.ErrNoStreamResponse,
		nats.ErrConnectionClosed, nats.ErrConnectionReconnecting, nats.ErrDisconnected,
		&jetstream.APIError{Code: 503, Description: "JetStream system temporarily unavailable"},
		fmt.Errorf("wrapped: %w", nats.ErrTimeout),
	} {
		assert.True(t, transient(err), "%v", err)
	}
	for _, err := range []error{
		context.Canceled, errors.New("other"), jetstream.ErrInvalidJSAck,
		&jetstream.APIError{Code: 400, ErrorCode: 10054, Description: "message size exceeds maximum allowed"},
	} {
		assert.False(t, transient(err), "%v", err)
	}
}

func TestPublishErrorMessage(t *testing.T) {
	err := &PublishError{Subject: "a.b", Attempts: 1, Err: ErrPermissionDenied}
	assert.True(t, strings.Contains(err.Error(), "after 1 attempt:"), err.Error())
	assert.ErrorIs(t, err, ErrPublishFailed)
	assert.ErrorIs(t, err, ErrPermissionDenied)
}

func TestDeniedWatch(t *testing.T) {
	c := &Conn{watches: map[*denyWatch]struct{}{}}
	var cancelled []string
	w1 := c.watchDenied("a.b", func() { cancelled = append(cancelled, "a.b") })
	w2 := c.watchDenied("c.d", func() { cancelled = append(cancelled, "c.d") })
	c.asyncError(errors.New("unrelated"))
	c.asyncError(fmt.Errorf("%w: something else", nats.ErrPermissionViolation))
	c.asyncError(fmt.Errorf("%w: Permissions Violation for Publish to %q", nats.ErrPermissionViolation, "a.b"))
	assert.Equal(t, []string{"a.b"}, cancelled)
	assert.Error(t, c.unwatch(w1))
	c.asyncError(fmt.Errorf("%w: Permissions Violation for Publish with Reply of %q", nats.ErrPermissionViolation, "_INBOX.x"))
	assert.Equal(t, []string{"a.b", "c.d"}, cancelled, "a refused reply subject fails every waiting publish")
	assert.Error(t, c.unwatch(w2))
	assert.Empty(t, c.watches)
}

// A number math/big cannot hold makes jsonschema/v5 panic on a bound; the
// schema reports it as invalid instead.
func TestSchemaHugeNumberIsInvalidNotPanic(t *testing.T) {
	s, err := payload.CompileSchema("schemas/n.json", map[string]string{
		"schemas/n.json": `{"type":"object","properties":{"n":{"type":"number","minimum":0}}}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ValidateJSON([]byte(`{"n":1e9999999}`))
	if !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("want an invalid payload, got %v", err)
	}
}
