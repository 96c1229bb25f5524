package outbox_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/outbox"
)

// sentAt reports whether the row of event id is marked sent.
func sentAt(t *testing.T, db *sql.DB, o *outbox.Outbox, id uuid.UUID) bool {
	t.Helper()
	var at sql.NullInt64
	require.NoError(t, db.QueryRow(`SELECT sent_at FROM `+o.Table()+` WHERE id = ?`, id.String()).Scan(&at))
	return at.Valid
}

// setSubject rewrites the subject a row is published to (as stored: the
// relay sends the row as it finds it).
func setSubject(t *testing.T, db *sql.DB, o *outbox.Outbox, id uuid.UUID, subject string) {
	t.Helper()
	_, err := db.Exec(`UPDATE `+o.Table()+` SET subject = ? WHERE id = ?`, subject, id.String())
	require.NoError(t, err)
}

// noAckStream creates a stream that stores what is published to
// prefix.> without acknowledging it: an attempt there waits for its
// timeout, as one made while the stream is unreachable.
func noAckStream(t *testing.T, e *env) string {
	t.Helper()
	name := "NOACK_" + strings.ToUpper(uuid.NewString()[:8])
	prefix := strings.ToLower(name)
	_, err := e.Conn.JetStream().CreateStream(ctx(t), jetstream.StreamConfig{Name: name, Subjects: []string{prefix + ".>"}, NoAck: true})
	require.NoError(t, err)
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Conn.JetStream().DeleteStream(c, name)
	})
	return prefix + ".x"
}

// TestOutboxMarksBeforeAwaitingTheRest: rows acknowledged before a row
// that failed are marked sent within the mark bound, not once every row
// published after the failed one has its outcome (which, for a row whose
// ack does not come, is the publish timeout).
func TestOutboxMarksBeforeAwaitingTheRest(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	db.SetMaxOpenConns(1)
	pub := e.Publisher(t, "orders", bus.WithPublishTimeout(2*time.Second))
	o, log := newOutboxWith(t, e, db, pub)
	a, _ := commitOrder(t, ctx(t), db, o, e.Cat)
	b, _ := commitOrder(t, ctx(t), db, o, e.Cat)
	c, _ := commitOrder(t, ctx(t), db, o, e.Cat)
	var envelope []byte
	require.NoError(t, db.QueryRow(`SELECT envelope FROM `+o.Table()+` WHERE id = ?`, b.String()).Scan(&envelope))
	// b fails at once, in the client: over the server's maximum payload.
	_, err := db.Exec(`UPDATE `+o.Table()+` SET envelope = ? WHERE id = ?`, make([]byte, e.Conn.NATS().MaxPayload()+1), b.String())
	require.NoError(t, err)
	subject := e.Cat.Subject("orders.created")
	setSubject(t, db, o, c, noAckStream(t, e)) // no ack: c waits for its timeout, 2s

	started := time.Now()
	startRelay(t, o)
	require.Eventually(t, func() bool { return sentAt(t, db, o, a) }, 5*time.Second, 5*time.Millisecond)
	marked := time.Since(started)
	assert.Less(t, marked, time.Second, "the acknowledged row is marked within the mark bound, not after the publish timeout of a row behind the failed one")

	// Repaired, the rows go, in order.
	_, err = db.Exec(`UPDATE `+o.Table()+` SET envelope = ? WHERE id = ?`, envelope, b.String())
	require.NoError(t, err)
	setSubject(t, db, o, c, subject)
	require.NoError(t, o.Flush(ctx(t)))
	assert.Equal(t, []uuid.UUID{a, b, c}, storedIDs(t, e))
	require.Positive(t, log.len())
	assert.ErrorContains(t, log.all()[0], b.String(), "the failed row reported")
}
