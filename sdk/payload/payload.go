package payload

// Payload is implemented by a pointer to every generated payload type: the
// subject of its event, the check against its schema, and its JSON
// encoding without reflection. A publisher given one needs nothing else of
// the generated code.
type Payload interface {
	// EventSubject returns the subject of the event the payload belongs to.
	EventSubject() string

	// EventVersion returns the version of the event's schema the type is
	// generated from: the current one, or an older one (a type such as
	// SalesOrderCreatedV1).
	EventVersion() int

	// Validate checks the value against its schema, with the verdict the
	// event's JSON check gives on its encoding; it returns nil or a
	// *ValidationError naming each failing JSON pointer.
	Validate() error

	// AppendJSON appends to dst exactly what json.Marshal gives for the
	// value (compact, HTML characters escaped).
	AppendJSON(dst []byte) ([]byte, error)
}
