package outbox_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/outbox"
)

// outcome is what one Process of a group returned.
type outcome struct {
	applied bool
	err     error
}

// processAll runs one Process per fn inside one Scope, with a fresh event
// id each unless ids gives it, and returns Scope's error and each outcome.
func processAll(t *testing.T, in *outbox.Inbox, ids []uuid.UUID, fns ...func(tx *sql.Tx) error) ([]outcome, error) {
	t.Helper()
	out := make([]outcome, len(fns))
	err := in.Scope(ctx(t), func(c context.Context) {
		for i, fn := range fns {
			id := uuid.New()
			if i < len(ids) {
				id = ids[i]
			}
			out[i].applied, out[i].err = in.Process(c, "stock", id, fn)
		}
	})
	return out, err
}

func processed(t *testing.T, in *outbox.Inbox, id uuid.UUID) bool {
	t.Helper()
	ok, err := in.Processed(ctx(t), "stock", id)
	require.NoError(t, err)
	return ok
}

func TestScopeCommitsEveryEvent(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	bump := func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, "a") }

	var seenInside int
	out, err := processAll(t, in, ids, bump, bump, func(tx *sql.Tx) error {
		// Inside the group nothing is committed yet: another connection
		// sees neither the changes nor the records.
		seenInside = counterValue(t, db, "a")
		assert.False(t, processed(t, in, ids[0]))
		return bump(tx)
	})
	require.NoError(t, err)
	for i, o := range out {
		assert.NoError(t, o.err, i)
		assert.True(t, o.applied, i)
	}
	assert.Zero(t, seenInside)
	assert.Equal(t, 3, counterValue(t, db, "a"))
	for _, id := range ids {
		assert.True(t, processed(t, in, id))
	}

	// Delivered again, in another group: acknowledged, not applied.
	out, err = processAll(t, in, ids[:1], func(*sql.Tx) error {
		t.Error("an event already processed is not handled again")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, outcome{}, out[0])
	assert.Equal(t, 3, counterValue(t, db, "a"))
}

func TestScopeRollsBackOnlyTheFailingEvent(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	boom := errors.New("boom")
	bump := func(name string) func(tx *sql.Tx) error {
		return func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, name) }
	}

	out, err := processAll(t, in, ids,
		bump("a"),
		func(tx *sql.Tx) error {
			require.NoError(t, bumpCounter(ctx(t), tx, "a"))
			require.NoError(t, bumpCounter(ctx(t), tx, "b"))
			return boom
		},
		bump("a"),
	)
	assert.NoError(t, err, "the group commits what succeeded")
	assert.Equal(t, outcome{applied: true}, out[0])
	assert.ErrorIs(t, out[1].err, boom, "the handler's error, as is")
	assert.False(t, out[1].applied)
	assert.Equal(t, outcome{applied: true}, out[2])

	assert.Equal(t, 2, counterValue(t, db, "a"), "the failed event's change is undone, the others' kept")
	assert.Zero(t, counterValue(t, db, "b"))
	assert.True(t, processed(t, in, ids[0]))
	assert.False(t, processed(t, in, ids[1]), "the failed event is not recorded: it is retried")
	assert.True(t, processed(t, in, ids[2]))

	// Retried alone, the failed event applies.
	out, err = processAll(t, in, ids[1:2], bump("b"))
	require.NoError(t, err)
	assert.Equal(t, outcome{applied: true}, out[0])
	assert.Equal(t, 1, counterValue(t, db, "b"))
}

func TestScopePanicInsideProcessRollsBackThatEvent(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var results []outcome
	err := in.Scope(ctx(t), func(c context.Context) {
		for i, id := range ids {
			var o outcome
			func() {
				// What the consumer does for each handler: a panic is an error.
				defer func() {
					if r := recover(); r != nil {
						o.err = errors.New("panic")
					}
				}()
				o.applied, o.err = in.Process(c, "stock", id, func(tx *sql.Tx) error {
					require.NoError(t, bumpCounter(ctx(t), tx, "a"))
					if i == 1 {
						panic("handler bug")
					}
					return nil
				})
			}()
			results = append(results, o)
		}
	})
	require.NoError(t, err)
	assert.Equal(t, []outcome{{applied: true}, {err: errors.New("panic")}, {applied: true}}, results)
	assert.Equal(t, 2, counterValue(t, db, "a"))
	assert.False(t, processed(t, in, ids[1]))
}

func TestScopeAppliesADuplicateOnce(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	id := uuid.New()
	calls := 0
	bump := func(tx *sql.Tx) error { calls++; return bumpCounter(ctx(t), tx, "a") }

	// The same event twice in one group (stored twice by the stream).
	out, err := processAll(t, in, []uuid.UUID{id, id}, bump, bump)
	require.NoError(t, err)
	assert.Equal(t, []outcome{{applied: true}, {}}, out)
	assert.Equal(t, 1, calls)
	assert.Equal(t, 1, counterValue(t, db, "a"))

	// A duplicate after its first copy failed in the same group applies.
	other := uuid.New()
	out, err = processAll(t, in, []uuid.UUID{other, other},
		func(*sql.Tx) error { return errors.New("transient") }, bump)
	require.NoError(t, err)
	assert.Error(t, out[0].err)
	assert.Equal(t, outcome{applied: true}, out[1])
	assert.Equal(t, 2, counterValue(t, db, "a"))
	assert.True(t, processed(t, in, other))
}

func TestScopeAfterCommit(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	var calls []string
	var counterSeen []int
	after := func(name string) func(context.Context) {
		return func(c context.Context) {
			assert.NoError(t, c.Err(), "the Scope's context, not a handler's")
			calls = append(calls, name)
			counterSeen = append(counterSeen, counterValue(t, db, "a"))
		}
	}

	err := in.Scope(ctx(t), func(c context.Context) {
		for _, name := range []string{"first", "second"} {
			hc, cancel := context.WithCancel(c) // a handler's context, ended with it
			_, err := in.Process(hc, "stock", uuid.New(), func(tx *sql.Tx) error {
				return bumpCounter(ctx(t), tx, "a")
			})
			require.NoError(t, err)
			in.AfterCommit(hc, after(name))
			cancel()
		}
		// Registered by an event whose change is rolled back: dropped.
		_, err := in.Process(c, "stock", uuid.New(), func(tx *sql.Tx) error {
			in.AfterCommit(c, after("rolled back"))
			return errors.New("boom")
		})
		require.Error(t, err)
		assert.Empty(t, calls, "nothing runs before the commit")
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"first", "second"}, calls, "in order, after the commit")
	assert.Equal(t, []int{2, 2}, counterSeen, "the group's changes are committed when they run")

	// A group that cannot commit runs none.
	calls = nil
	_, err = db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON giia_inbox WHEN NEW.consumer = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx(t))
	err = in.Scope(c, func(gc context.Context) {
		_, err := in.Process(gc, "stock", uuid.New(), func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, "a") })
		require.NoError(t, err)
		in.AfterCommit(gc, after("never"))
		cancel() // the transaction's context ends: the commit fails
	})
	assert.ErrorContains(t, err, "commit")
	assert.Empty(t, calls)
	assert.Equal(t, 2, counterValue(t, db, "a"), "nothing of the group committed")

	// Outside a group, AfterCommit runs at once (Process committed already).
	in.AfterCommit(ctx(t), after("now"))
	assert.Equal(t, []string{"now"}, calls)
}

func TestScopeFailures(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)

	// A record that cannot be written: that event fails, the others commit.
	_, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON giia_inbox WHEN NEW.consumer = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
	require.NoError(t, err)
	ok, refused := uuid.New(), uuid.New()
	var errs []error
	err = in.Scope(ctx(t), func(c context.Context) {
		_, err := in.Process(c, "refused", refused, func(*sql.Tx) error { t.Error("not called"); return nil })
		errs = append(errs, err)
		_, err = in.Process(c, "stock", ok, func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, "a") })
		errs = append(errs, err)
	})
	require.NoError(t, err)
	assert.ErrorContains(t, errs[0], "refused")
	assert.NoError(t, errs[1])
	assert.True(t, processed(t, in, ok))

	// Invalid arguments are refused inside a group too.
	err = in.Scope(ctx(t), func(c context.Context) {
		_, err := in.Process(c, "", uuid.New(), func(*sql.Tx) error { return nil })
		assert.ErrorIs(t, err, outbox.ErrInvalidOption)
	})
	require.NoError(t, err)

	// A group without a Process touches nothing; a nested Scope joins.
	calls := 0
	err = in.Scope(ctx(t), func(c context.Context) {
		require.NoError(t, in.Scope(c, func(inner context.Context) {
			_, err := in.Process(inner, "stock", uuid.New(), func(tx *sql.Tx) error { calls++; return bumpCounter(ctx(t), tx, "a") })
			assert.NoError(t, err)
		}))
	})
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Equal(t, 2, counterValue(t, db, "a"))

	// A transaction that cannot begin fails every event of the group, and
	// the group.
	require.NoError(t, db.Close())
	err = in.Scope(ctx(t), func(c context.Context) {
		_, err := in.Process(c, "stock", uuid.New(), func(*sql.Tx) error { return nil })
		assert.ErrorContains(t, err, "begin")
		_, err = in.Process(c, "stock", uuid.New(), func(*sql.Tx) error { return nil })
		assert.ErrorContains(t, err, "begin")
	})
	assert.ErrorContains(t, err, "begin")
}

func TestScopeWakesTheOutboxOnlyForItsRows(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	// Without a Notify the relay would publish only at its poll, an hour
	// from now.
	o, _ := newOutbox(t, e, db, outbox.WithPollInterval(time.Hour))
	startRelay(t, o)
	in := migratedInbox(t, db, outbox.WithNotify(o))

	var id uuid.UUID
	err := in.Scope(ctx(t), func(c context.Context) {
		_, err := in.Process(c, "stock", uuid.New(), func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, "a") })
		require.NoError(t, err)
		_, err = in.Process(c, "stock", uuid.New(), func(tx *sql.Tx) error {
			var err error
			id, err = o.Add(ctx(t), tx, e.Cat.Subject("orders.created"), newOrder())
			return err
		})
		require.NoError(t, err)
	})
	require.NoError(t, err)
	eventually(t, func() bool { return o.Stats().Published == 1 }, "the relay was woken")
	assert.Equal(t, []uuid.UUID{id}, storedIDs(t, e))

	// A row added by an event rolled back to its savepoint is not published.
	err = in.Scope(ctx(t), func(c context.Context) {
		_, err := in.Process(c, "stock", uuid.New(), func(tx *sql.Tx) error {
			if _, err := o.Add(ctx(t), tx, e.Cat.Subject("orders.created"), newOrder()); err != nil {
				return err
			}
			return errors.New("boom")
		})
		require.Error(t, err)
	})
	require.NoError(t, err)
	require.NoError(t, o.Flush(ctx(t)))
	s := o.Stats()
	assert.Zero(t, s.Pending)
	assert.Equal(t, int64(1), s.Sent, "only the committed row")
	assert.Equal(t, uint64(1), s.Published)
}
