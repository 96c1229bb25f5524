// Package problem is the error a use case of a service returns when it
// refuses a request: what kind of refusal, which input field, and why. The
// HTTP layer turns the kind into a status code (400, 404, 409); the use
// cases know nothing of HTTP.
package problem

import (
	"errors"
	"fmt"
)

// Kind is why a request was refused.
type Kind int

const (
	// Invalid: the input is malformed or breaks a rule of its own (400).
	Invalid Kind = iota + 1
	// NotFound: the request names something that does not exist (404).
	NotFound
	// Conflict: the request is well-formed but illegal in the current
	// state, such as shipping more than is on hand (409).
	Conflict
	// Unsupported: the request's body is not of a media type the API
	// reads (415).
	Unsupported
	// Unauthenticated: the request proves no identity, or one that does
	// not verify (401).
	Unauthenticated
	// Forbidden: the caller is known but lacks the role (403).
	Forbidden
	// TooLarge: the change's event would be larger than the stream
	// carries (413).
	TooLarge
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Unsupported:
		return "unsupported media type"
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "forbidden"
	case TooLarge:
		return "too large"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a refused request. Field names the input at fault by its JSON
// name ("lines[0].quantity", "X-Organization-ID"); it is empty when the
// whole request is at fault.
type Error struct {
	Kind    Kind
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Kind.String() + ": " + e.Message
	}
	return e.Kind.String() + ": " + e.Field + ": " + e.Message
}

// Invalidf returns an Invalid error about field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error about field.
func NotFoundf(field, format string, args ...any) *Error {
	return &Error{Kind: NotFound, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns a Conflict error about field.
func Conflictf(field, format string, args ...any) *Error {
	return &Error{Kind: Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}
