package bus

import (
	"context"
	"encoding/json"
	"fmt"
)

// Message is one delivery as a Middleware sees it, on its way to its typed
// handler: what the envelope and the delivery say about the event, and its
// payload, already checked against the schema of its version
// (Metadata.Version) but not decoded yet.
type Message struct {
	Metadata
	Payload json.RawMessage
}

// MessageHandler handles one delivery before it is decoded. It is the
// untyped seam every route with a handler passes through: the innermost
// MessageHandler, the one a chain of middleware ends in, decodes
// m.Payload as version m.Version into the route's type and calls its
// Handler[T] with the Event. Its outcome settles the delivery as a
// Handler's does: nil acknowledges it, an error has it redelivered (and
// dead-lettered on its MaxDeliver-th delivery), Permanent(err)
// dead-letters it at once, and a payload that does not decode is a
// Permanent ErrInvalidPayload. A panic is recovered as a handler's is
// (ErrHandlerPanic) and counts as an error.
//
// ctx is the handler's context: it carries the event's correlation (see
// CorrelationFrom) and trace, and inside WithHandlerScope it derives from
// the scope's context.
type MessageHandler func(ctx context.Context, m Message) error

// Middleware wraps the handling of every delivery of a subscription, for
// timeouts, logging or metrics that should not be repeated in each field
// of a generated handlers struct. It is the func(Handler) Handler of
// Watermill's router, untyped because Handler[T] is typed per event:
// next decodes and runs the typed handler. A Middleware may change ctx,
// change the Message it passes on (next decodes the Payload it is
// given), not call next at all (its outcome then settles the delivery
// alone: nil acknowledges an event its handler never saw), and turn
// next's outcome into another.
//
// Consume calls each Middleware once per route with a handler, when it
// starts; the MessageHandler it returns runs for every delivery of that
// route, from up to WithMaxInFlight goroutines at once.
type Middleware func(next MessageHandler) MessageHandler

// WithMiddleware wraps every route's handler in mw, the first given the
// outermost, as Watermill's router orders them: WithMiddleware(a, b) runs
// a, which calls b, which calls the handler, and their returns come back
// through b then a. Several WithMiddleware options add to one chain in
// the order they are given. A nil Middleware is refused with an error
// wrapping ErrInvalidOption, and so is, by Consume, one that returns a
// nil MessageHandler.
//
// The chain runs where the handler would, for every delivery the handler
// would see, and for no other: not for a subject whose handler is nil or
// that has no route (acknowledged once validated), nor for a message
// that cannot reach a handler (an invalid envelope or payload, a version
// waiting for an upgrade), which is settled before. It runs inside the
// process span and the consume metrics, so a logging middleware finds
// the span in ctx and the time middleware take counts as the handler's;
// with WithHandlerScope, each delivery's chain runs inside the scope's
// run, one after the other. Without middleware, deliveries call their
// handler directly, at no extra cost. EnsureConsumer ignores the option.
func WithMiddleware(mw ...Middleware) ConsumerOption {
	return func(o *consumerOptions) error {
		for i, m := range mw {
			if m == nil {
				return fmt.Errorf("%w: nil middleware (argument %d)", ErrInvalidOption, i)
			}
		}
		o.middleware = append(o.middleware, mw...)
		return nil
	}
}

// wrapRoute returns r with its handler inside the chain of mw (the first
// the outermost), or r itself when there is nothing to wrap.
func wrapRoute(r Route, mw []Middleware) (Route, error) {
	if len(mw) == 0 || r.call == nil {
		return r, nil
	}
	call := r.call
	h := MessageHandler(func(ctx context.Context, m Message) error {
		return call(ctx, m.Metadata, m.Payload)
	})
	for i := len(mw) - 1; i >= 0; i-- {
		if h = mw[i](h); h == nil {
			return r, fmt.Errorf("%w: middleware %d of %d returned a nil handler for %q", ErrInvalidOption, i+1, len(mw), r.subject)
		}
	}
	r.call = func(ctx context.Context, md Metadata, payload json.RawMessage) error {
		return h(ctx, Message{Metadata: md, Payload: payload})
	}
	return r, nil
}
