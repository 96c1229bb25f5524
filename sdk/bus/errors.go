package bus

import "errors"

// Errors returned by the runtime. Each is matchable with errors.Is; the
// richer ones (*ValidationError, *PublishError) with errors.As.
var (
	// ErrInvalidPayload: a payload breaks its event's JSON Schema. The
	// *ValidationError behind it names each failing JSON pointer.
	ErrInvalidPayload = errors.New("bus: invalid payload")
)
