package payload

import "errors"

// Errors of payload checking and encoding, matchable with errors.Is.
var (
	// ErrInvalidPayload: a payload breaks its event's JSON Schema. The
	// *ValidationError behind it names each failing JSON pointer.
	ErrInvalidPayload = errors.New("payload: invalid payload")

	// ErrUnsupportedValue: a value has no JSON encoding: a NaN or infinite
	// number, or a time whose year is outside [0, 9999]. encoding/json
	// refuses the same values.
	ErrUnsupportedValue = errors.New("payload: value has no JSON encoding")
)

// ErrUnrepresentable: a JSON value that passes its schema but that the
// payload's Go type cannot hold: an integer beyond int64, a number beyond
// float64, a value of another kind than the Go type's where the schema
// does not say a type, a time that encodes to a year beyond 9999 once normalized. The
// generated decoders return it inside a *DecodeError.
var ErrUnrepresentable = errors.New("payload: value does not fit its Go type")
