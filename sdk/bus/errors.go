package bus

import (
	"errors"
	"fmt"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
	"github.com/google/uuid"
)

// Errors returned by the runtime. Each is matchable with errors.Is; the
// richer ones (*payload.ValidationError, *PublishError) with errors.As.
var (
	// ErrInvalidPayload: a payload breaks its event's JSON Schema. The
	// *payload.ValidationError behind it names each failing JSON pointer.
	// The same value as payload.ErrInvalidPayload.
	ErrInvalidPayload = payload.ErrInvalidPayload

	// ErrInvalidOption: an option was given a value it cannot take, or a
	// required argument is missing.
	ErrInvalidOption = errors.New("bus: invalid option")

	// ErrConnect: the connection to NATS could not be established.
	ErrConnect = errors.New("bus: cannot connect to NATS")

	// ErrUnknownService: the service is not declared in the catalog.
	// The same value as spec.ErrUnknownService.
	ErrUnknownService = spec.ErrUnknownService

	// ErrUnknownSubject: the subject is not an event of the catalog.
	ErrUnknownSubject = errors.New("bus: unknown subject")

	// ErrNotPublisher: the catalog gives the event to another publisher.
	ErrNotPublisher = errors.New("bus: service is not the publisher of this event")

	// ErrNotConsumer: the catalog does not list the service among the
	// event's consumers, or the service consumes no event at all.
	// The same value as spec.ErrNotConsumer.
	ErrNotConsumer = spec.ErrNotConsumer

	// ErrInvalidRoute: a route has no subject or repeats another route's.
	ErrInvalidRoute = errors.New("bus: invalid route")

	// ErrPublishFailed: an event could not be stored in its stream. The
	// *PublishError behind it tells how many attempts were made and why
	// the last one failed.
	ErrPublishFailed = errors.New("bus: publish failed")

	// ErrPermissionDenied: the NATS server refused the publish for lack of
	// permission. It is never retried.
	ErrPermissionDenied = errors.New("bus: permission denied")

	// ErrTooLarge: an event's envelope would not fit in a NATS message
	// with its headers, or its dead letter would not: it is refused
	// before it is sent or stored, never retried.
	ErrTooLarge = errors.New("bus: event too large")

	// ErrTopology: a stream or a consumer could not be created or updated.
	ErrTopology = errors.New("bus: cannot set up stream or consumer")

	// ErrPermanent marks a handler error that must not be retried; see
	// Permanent.
	ErrPermanent = errors.New("bus: permanent failure")

	// ErrHandlerPanic: a handler panicked; the panic was recovered and
	// treated as a handler error.
	ErrHandlerPanic = errors.New("bus: handler panicked")

	// ErrHandlerScope: a HandlerScope (WithHandlerScope) failed, or
	// returned without running the handlers; the deliveries whose handlers
	// succeeded were given back to be delivered again.
	ErrHandlerScope = errors.New("bus: handler scope failed")

	// ErrInvalidMessage: an incoming message is not a valid envelope (not
	// JSON, breaks the envelope schema, or names a different subject than
	// the one it was sent on). Such a message is dead-lettered.
	ErrInvalidMessage = errors.New("bus: invalid message")

	// ErrDeadLetter: a message could not be stored in the dead-letter
	// stream. It is negatively acknowledged instead, so it is not lost;
	// reported through the consumer's error handler.
	ErrDeadLetter = errors.New("bus: dead-letter publish failed")

	// ErrAck: an Ack, Nak, Term or InProgress could not be sent; reported
	// through the consumer's error handler.
	ErrAck = errors.New("bus: acknowledgement failed")

	// ErrFetch: pulling messages from a consumer failed (missing
	// heartbeats, a deleted consumer, a lost connection); reported through
	// the consumer's error handler while the subscription recovers.
	ErrFetch = errors.New("bus: fetching messages failed")

	// ErrDeadLetterNotFound: no dead letter has the given sequence in the
	// dead-letter stream (never stored, already replayed, or expired).
	ErrDeadLetterNotFound = errors.New("bus: dead letter not found")

	// ErrInvalidDeadLetter: a message of the dead-letter stream lacks what a
	// replay needs (its original subject), or names a subject that is not
	// an event of the catalog.
	ErrInvalidDeadLetter = errors.New("bus: invalid dead letter")

	// ErrUnknownVersion: an event's version is not one the consumer's
	// catalog keeps. A newer one waits for the consumer's upgrade (see
	// WithVersionPatience), reported through the error handler, then is
	// dead-lettered; an older one is dead-lettered at once.
	ErrUnknownVersion = errors.New("bus: unknown event version")

	// ErrStopIncomplete: Stop's context ended before every in-flight
	// handler returned.
	ErrStopIncomplete = errors.New("bus: stop ended before in-flight handlers finished")
)

// PublishError reports an event that could not be published. It matches
// ErrPublishFailed with errors.Is, and unwraps to the cause of the last
// attempt (ErrPermissionDenied when the server refused the publish, a
// context error when the caller's context ended).
type PublishError struct {
	Subject  string
	EventID  uuid.UUID
	Attempts int   // attempts made, 1 or more
	Err      error // why the last attempt failed
}

func (e *PublishError) Error() string {
	plural := "s"
	if e.Attempts == 1 {
		plural = ""
	}
	return fmt.Sprintf("bus: publish %q (event %s) failed after %d attempt%s: %v",
		e.Subject, e.EventID, e.Attempts, plural, e.Err)
}

// Unwrap returns the cause of the last attempt.
func (e *PublishError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPublishFailed) true.
func (e *PublishError) Is(target error) bool { return target == ErrPublishFailed }

// Permanent marks err as a failure that retrying cannot fix. A handler
// returning it has its message terminated and dead-lettered at once
// instead of redelivered. Permanent(nil) is nil. The result matches
// ErrPermanent and err with errors.Is.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }
