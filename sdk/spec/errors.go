package spec

import "errors"

// Errors of the configuration functions, matchable with errors.Is. sdk/bus
// returns the same values.
var (
	// ErrUnknownService: the service is not declared in the catalog.
	ErrUnknownService = errors.New("spec: unknown service")

	// ErrNotConsumer: the catalog does not list the service among the
	// event's consumers, or the service consumes no event at all.
	ErrNotConsumer = errors.New("spec: service is not a consumer of this event")

	// ErrInvalidSettings: a consumer setting is out of range, or the
	// catalog is nil.
	ErrInvalidSettings = errors.New("spec: invalid consumer settings")
)
