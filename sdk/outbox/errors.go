package outbox

import "errors"

// Errors of the outbox and the inbox, matchable with errors.Is. A row that
// cannot be published is reported with the *bus.PublishError of its last
// attempt; a payload refused by Add with its *payload.ValidationError.
var (
	// ErrInvalidOption: an option was given a value it cannot take, or a
	// required argument (database, publisher, transaction) is missing.
	ErrInvalidOption = errors.New("outbox: invalid option")

	// ErrRunning: Run or Start was called while the outbox's relay was
	// already running.
	ErrRunning = errors.New("outbox: relay already running")

	// ErrPending: Stop's context ended before every pending row was
	// published. Nothing is lost: the rows stay in the table and the next
	// relay publishes them.
	ErrPending = errors.New("outbox: rows still pending")
)
