package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/services/sqlitedb"
)

// ledgerSchema: applications is the state change that the consumer's
// inbox (outbox.Inbox, its own table) guards, deliberately not idempotent (no
// unique key), so that an event applied twice shows as two rows.
const ledgerSchema = `
CREATE TABLE IF NOT EXISTS applications (
	event_id   TEXT NOT NULL,
	subject    TEXT NOT NULL,
	applied_at TEXT NOT NULL
);
`

// ledger is the state of a consumer that the chaos suite runs itself (as
// the catalog's external services ai-hub and analytics): each event it
// handles goes through outbox.Inbox.Process, which records it in the inbox
// and applies it (one row in applications) in one SQLite transaction. It
// also counts every delivery in memory, so that redeliveries show.
type ledger struct {
	db       *sql.DB
	inbox    *outbox.Inbox
	consumer string
	applied  atomic.Int64

	mu         sync.Mutex
	deliveries map[uuid.UUID]int
	firstAt    map[uuid.UUID]time.Time
}

// openLedger opens the database at path for consumer, a service name.
func openLedger(ctx context.Context, path, consumer string) (*ledger, error) {
	db, err := sqlitedb.Open(ctx, path, ledgerSchema)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	inbox, err := outbox.NewInbox(db)
	if err == nil {
		err = inbox.Migrate(ctx)
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return &ledger{db: db, inbox: inbox, consumer: consumer, deliveries: map[uuid.UUID]int{}, firstAt: map[uuid.UUID]time.Time{}}, nil
}

func (l *ledger) Close() error { return l.db.Close() }

// Apply handles one delivery of an event: a redelivered event already in
// the inbox is acknowledged without being applied again.
func (l *ledger) Apply(ctx context.Context, md bus.Metadata) error {
	l.mu.Lock()
	l.deliveries[md.ID]++
	l.mu.Unlock()
	applied, err := l.inbox.Process(ctx, l.consumer, md.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO applications (event_id, subject, applied_at) VALUES (?, ?, ?)`,
			md.ID.String(), md.Subject, time.Now().UTC().Format(time.RFC3339Nano))
		return err
	})
	if err != nil || !applied {
		return err // a failure is retried; an event seen before is acknowledged
	}
	l.applied.Add(1)
	l.mu.Lock()
	if _, ok := l.firstAt[md.ID]; !ok {
		l.firstAt[md.ID] = time.Now()
	}
	l.mu.Unlock()
	return nil
}

// Applied returns how many applications committed so far.
func (l *ledger) Applied() int { return int(l.applied.Load()) }

// Applications returns how many times each event was applied, from the
// database.
func (l *ledger) Applications(ctx context.Context) (map[uuid.UUID]int, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT event_id, COUNT(*) FROM applications GROUP BY event_id`)
	if err != nil {
		return nil, fmt.Errorf("ledger: applications: %w", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("ledger: applications: %w", err)
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("ledger: applications: %w", err)
		}
		out[u] = n
	}
	return out, rows.Err()
}

// Redeliveries returns how many deliveries came after an event's first.
func (l *ledger) Redeliveries() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.deliveries {
		n += d - 1
	}
	return n
}

// AppliedAt returns when the event was first applied.
func (l *ledger) AppliedAt(id uuid.UUID) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.firstAt[id]
	return t, ok
}

// MaxGap returns the longest time between two consecutive first
// applications within [from, to]: how long the consumer stalled while
// events kept coming.
func (l *ledger) MaxGap(from, to time.Time) time.Duration {
	l.mu.Lock()
	times := make([]time.Time, 0, len(l.firstAt))
	for _, t := range l.firstAt {
		if !t.Before(from) && !t.After(to) {
			times = append(times, t)
		}
	}
	l.mu.Unlock()
	slices.SortFunc(times, time.Time.Compare)
	var gap time.Duration
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i].Sub(times[i-1]))
	}
	return gap
}

// tally compares what was expected with what a ledger applied: lost are
// expected events never applied, duplicates the applications beyond the
// first, applied the distinct expected events applied. Applications of
// events not expected count as unexpected.
type tally struct {
	applied, lost, duplicates, unexpected int
}

func tallyApplications(expected map[uuid.UUID]bool, apps map[uuid.UUID]int) tally {
	var t tally
	for id := range expected {
		n := apps[id]
		if n == 0 {
			t.lost++
			continue
		}
		t.applied++
		t.duplicates += n - 1
	}
	for id, n := range apps {
		if !expected[id] {
			t.unexpected += n
		}
	}
	return t
}
