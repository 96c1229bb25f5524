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
