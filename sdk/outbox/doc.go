// Package outbox is the transactional outbox and the idempotent inbox of
// GIIA events, over database/sql.
//
// # Outbox
//
// An Outbox is a transactional outbox: a service writes its state change and
// the events it causes in one database transaction (Add), and a relay
// (Run, or Start and Stop) publishes the committed events afterwards, in
// commit order, with Nats-Msg-Id = the envelope id, marking each sent once
// the stream acknowledged it. A change is therefore never committed without
// its events, nor an event published for a change that rolled back, and a
// request never waits for NATS: Add only inserts a row. While NATS is
// unreachable the relay retries with a growing delay (50ms doubling to 2s
// by default); the rows wait in the table, across restarts of the process.
//
// A service adds its events through the typed facade eventgen generates
// for it (events.ExecutionOutbox: one method per event the service owns,
// so the compiler ties each payload to its event and refuses another
// service's) rather than through Add:
//
//	typed, err := events.NewExecutionOutbox(outbox) // refuses another service's outbox
//	...
//	tx, _ := db.BeginTx(ctx, nil)
//	... the state change ...
//	if _, err := typed.PurchaseOrderCreated(ctx, tx, payload); err != nil {
//		return err // a *payload.ValidationError when the payload breaks its schema
//	}
//	if err := tx.Commit(); err != nil { return err }
//	outbox.Notify() // the relay publishes at once instead of at its next poll
//
// or, where the time from commit to stream matters (a request), in place
// of Notify:
//
//	outbox.PublishCommitted(ctx) // publishes from this goroutine when the relay is idle
//
// The relay is a pipeline: it publishes rows as they are committed without
// waiting for the acks of the rows before them, and marks acknowledged
// rows sent in one UPDATE every 20ms (see WithMarkEvery).
//
// # Database
//
// The outbox works on database/sql. Its statements are portable SQL with
// "?" placeholders (SQLite, MySQL; for PostgreSQL use a driver or wrapper
// that accepts them). Migrate creates the table in SQLite's dialect
// (giia_outbox: seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,
// subject TEXT, envelope BLOB, created_at INTEGER, sent_at INTEGER NULL,
// attempts INTEGER, last_error TEXT NULL; times in Unix milliseconds);
// elsewhere create the equivalent yourself. seq is the publishing order.
// With SQLite (one writer at a time) insertion order is commit order. On a
// database with concurrent writers a transaction that inserted first may
// commit last; its rows are published as soon as they are visible, so
// after rows of later seq (once the relay has nothing in flight: it reads
// after the last row it published until then): serialise the writers if
// strict order matters.
// Run one relay per table. With modernc.org/sqlite open the database with
// _txlock=immediate and a busy_timeout, and keep transactions short: the
// relay shares the database with the requests.
//
// # Duplicates window
//
// Publishing twice with the same Nats-Msg-Id stores the event once only
// inside the stream's duplicates window (the catalog's stream.duplicates,
// 2m). The relay publishes a row again whenever it cannot know it was
// stored: the acknowledgement was lost, the attempt timed out while the
// message still reached the stream, the row was acknowledged but the
// process stopped before marking it sent (marking happens at most every
// WithMarkEvery, 1s). Two stores of one row are at most
//
//	2*T + B + M + R
//
// apart, where T is the publisher's attempt timeout (WithPublishTimeout,
// 5s), B the relay's longest backoff (WithBackoff, 2s), M the mark
// interval (1s) and R the longest interruption to cover: a NATS outage, or
// the time for a crashed process to restart and run its relay. (The first
// copy can be stored as an attempt starts and that attempt still time
// out, T; the relay waits B; the next attempt can be stored as it times
// out, T; acknowledged rows wait up to M to be marked; an interruption
// adds R. Copies the NATS client buffered while disconnected are sent on
// reconnect, inside R.) The window must be at least that: with the
// defaults 13s + R <= 2m, so outages and restarts of up to 107s are
// deduplicated by the stream. Beyond that the stream may hold an event
// twice, under one envelope id; an idempotent consumer (Inbox) applies it
// once.
//
// # Failures
//
// A row that cannot be published stops the rows after it (commit order is
// kept): the relay retries it with backoff, reports each failure to
// WithErrorHandler and keeps it in Stats, records the attempt count
// and the last error in the row, and goes on once it passes. A permanent
// refusal (bus.ErrPermissionDenied, a message over the server's limit) blocks
// the outbox until it is fixed; the error says which row.
//
// # Inbox
//
// An Inbox makes a consumer idempotent: Process runs a handler's state
// change and records the event id in one transaction, so an event
// delivered twice (a redelivery, a publish the stream stored twice beyond
// its duplicates window) changes the state once. Idempotent wraps a typed
// handler with it.
//
// Scope applies consecutive events in one transaction (group commit): a
// consumer given bus.WithHandlerScope(outbox.DefaultScopeMax, inbox.Scope)
// runs the handlers of a group of deliveries inside it, each event's
// Process behind its own SAVEPOINT, so that a failing event is rolled back
// alone and retried while the others commit, and acknowledges each
// delivery only after the commit. What must wait for the commit
// (publishing the events a handler added) goes through AfterCommit.
//
// The outbox reaches the NATS runtime only through sdk/bus's exported
// seam: Publisher.Encode checks and encodes an event as Publish would,
// Publisher.SendEncoded publishes a stored one, Publisher.AsyncRoom tells
// whether that would wait.
package outbox
