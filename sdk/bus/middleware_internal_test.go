package bus

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMiddlewareAddsNoAllocation checks the invoke path's route call:
// without middleware the route is the one NewDecodedRoute built, and a
// chain of pass-through middleware costs no allocation per delivery.
func TestMiddlewareAddsNoAllocation(t *testing.T) {
	var handled int
	r := NewDecodedRoute("orders.created", func(_ context.Context, ev Event[int]) error {
		handled += ev.Payload
		return nil
	}, func(_ int, data []byte) (int, error) { return len(data), nil })
	pass := func(next MessageHandler) MessageHandler {
		return func(ctx context.Context, m Message) error { return next(ctx, m) }
	}

	bare, err := wrapRoute(r, nil)
	require.NoError(t, err)
	assert.Equal(t, funcPointer(r.call), funcPointer(bare.call), "no middleware: the route's own call")
	wrapped, err := wrapRoute(r, []Middleware{pass, pass, pass})
	require.NoError(t, err)
	assert.NotEqual(t, funcPointer(r.call), funcPointer(wrapped.call))

	ctx := context.Background()
	md := Metadata{Subject: "orders.created", Version: 1, Delivered: 1}
	payload := json.RawMessage(`{"n":1}`)
	for name, route := range map[string]Route{"bare": bare, "wrapped": wrapped} {
		handled = 0
		allocs := testing.AllocsPerRun(1000, func() {
			if err := route.call(ctx, md, payload); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "%s: allocations per delivery", name)
		assert.Positive(t, handled, "%s: the handler ran", name)
	}
}

// funcPointer is f's code pointer: the same for two closures of one
// function literal, another for a closure of another.
func funcPointer(f func(context.Context, Metadata, json.RawMessage) error) uintptr {
	return reflect.ValueOf(f).Pointer()
}

// BenchmarkRouteCall is the cost of the middleware chain on one delivery's
// route call, without the network: the decoded route alone, then inside
// one and three pass-through middleware.
func BenchmarkRouteCall(b *testing.B) {
	r := NewDecodedRoute("orders.created", func(context.Context, Event[int]) error { return nil },
		func(_ int, data []byte) (int, error) { return len(data), nil })
	pass := func(next MessageHandler) MessageHandler {
		return func(ctx context.Context, m Message) error { return next(ctx, m) }
	}
	ctx := context.Background()
	md := Metadata{Subject: "orders.created", Version: 1, Delivered: 1}
	payload := json.RawMessage(`{"n":1}`)
	for _, n := range []int{0, 1, 3} {
		route, err := wrapRoute(r, slices.Repeat([]Middleware{pass}, n))
		require.NoError(b, err)
		b.Run(strconv.Itoa(n)+"mw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = route.call(ctx, md, payload)
			}
		})
	}
}
