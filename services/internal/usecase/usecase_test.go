package usecase_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	st "github.com/giia/events/services/internal/servicetest"
	"github.com/giia/events/services/internal/usecase"
	"github.com/giia/events/services/sqlitedb"
)

// The use cases under test are those of a service of the catalog
// (execution's outbox facade); the state they change is one table.
const schema = `CREATE TABLE IF NOT EXISTS changes (n INTEGER NOT NULL)`

type (
	core  = usecase.Core[*events.ExecutionOutbox]
	batch = usecase.Batch[*events.ExecutionOutbox]
)

type fixture struct {
	env *st.Env
	db  *sql.DB
	out *outbox.Outbox
	in  *outbox.Inbox
}

func setUp(t *testing.T) *fixture {
	t.Helper()
	env := st.New(t)
	db, err := sqlitedb.Open(context.Background(), filepath.Join(t.TempDir(), "u.db"), schema)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	out, in := env.Delivery(env.Conn, db, events.ServiceExecution)
	return &fixture{env: env, db: db, out: out, in: in}
}

func (f *fixture) core(t *testing.T, invalid func(*payload.ValidationError) error) *core {
	t.Helper()
	c, err := usecase.New(usecase.Config[*events.ExecutionOutbox]{
		Name: "svc", Outbox: f.out, Typed: events.NewExecutionOutbox, Inbox: f.in, Log: st.Quiet(), InvalidEvent: invalid,
	})
	require.NoError(t, err)
	return c
}

func (f *fixture) changes(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.QueryRow(`SELECT count(*) FROM changes`).Scan(&n))
	return n
}

// tx is a store's transaction.
type tx struct{ *sql.Tx }

func (t tx) SQL() *sql.Tx { return t.Tx }
func (t tx) Rollback()    { _ = t.Tx.Rollback() }

func (f *fixture) begin(t *testing.T) tx {
	t.Helper()
	sqlTx, err := f.db.Begin()
	require.NoError(t, err)
	_, err = sqlTx.Exec(`INSERT INTO changes (n) VALUES (1)`)
	require.NoError(t, err)
	return tx{sqlTx}
}

func inventoryUpdated(delta float64) events.InventoryUpdated {
	return events.InventoryUpdated{
		MovementID: uuid.New(), Product: events.ProductRef{ProductID: uuid.New(), SKU: "BRG-1"}, LocationID: uuid.New(),
		OnHand: events.Quantity{Value: 10, Unit: events.UnitEA}, Delta: delta, Reason: events.InventoryUpdatedReasonReceipt,
		UpdatedAt: time.Now().UTC(),
	}
}

func TestNewRefusesAnotherServicesOutbox(t *testing.T) {
	f := setUp(t)
	_, err := usecase.New(usecase.Config[*events.DDMRPOutbox]{Name: "svc", Outbox: f.out, Typed: events.NewDDMRPOutbox, Inbox: f.in})
	require.ErrorIs(t, err, bus.ErrNotPublisher)
	assert.ErrorContains(t, err, "svc: outbox: ")
}

func TestOrganization(t *testing.T) {
	f := setUp(t)
	c := f.core(t, nil)
	_, err := c.Organization(context.Background())
	assert.EqualError(t, err, "svc: no organization in the context (want bus.WithCorrelation)")
	org, err := c.Organization(f.env.Ctx())
	require.NoError(t, err)
	assert.Equal(t, f.env.Org, org)
}

// TestCommit: the change and its events commit together, and the events
// are published; an event that breaks its schema commits nothing, and is
// the service's error unless the service refuses such a change itself.
func TestCommit(t *testing.T) {
	f := setUp(t)
	c := f.core(t, nil)
	ctx := f.env.Ctx()
	seq := f.env.LastSeq()

	var b batch
	usecase.Add(&b, (*events.ExecutionOutbox).InventoryUpdated, inventoryUpdated(3))
	usecase.Add(&b, (*events.ExecutionOutbox).InventoryUpdated, inventoryUpdated(4))
	require.NoError(t, c.Commit(ctx, f.begin(t), &b))
	assert.Equal(t, 1, f.changes(t))
	f.env.Flush(f.out)
	msgs := f.env.Messages(seq)
	require.Len(t, msgs, 2)
	for i, m := range msgs {
		var u events.InventoryUpdated
		require.NoError(t, m.Decode(&u))
		assert.Equal(t, float64(3+i), u.Delta, "in the batch's order")
	}

	require.NoError(t, c.Commit(ctx, f.begin(t), &batch{}), "a change without events")
	assert.Equal(t, 2, f.changes(t))

	broken := inventoryUpdated(1)
	broken.Reason = "lost"
	b = batch{}
	usecase.Add(&b, (*events.ExecutionOutbox).InventoryUpdated, broken)
	err := c.Commit(ctx, f.begin(t), &b)
	var ve *payload.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorContains(t, err, "svc: event events.InventoryUpdated: ")
	assert.Equal(t, 2, f.changes(t), "nothing committed")

	refused := errors.New("refused")
	c = f.core(t, func(ve *payload.ValidationError) error {
		assert.NotEmpty(t, ve.Violations)
		return refused
	})
	require.ErrorIs(t, c.Commit(ctx, f.begin(t), &b), refused)
	assert.Equal(t, 2, f.changes(t), "nothing committed")
	f.env.Flush(f.out)
	assert.Len(t, f.env.Messages(seq), 2)
}

// TestHandle: a reaction runs once per event id, its change and events in
// the inbox's transaction; ErrNothingToDo or a failure commits nothing.
func TestHandle(t *testing.T) {
	f := setUp(t)
	c := f.core(t, nil)
	ctx := f.env.Ctx()
	seq := f.env.LastSeq()

	runs := 0
	var result error
	h := usecase.Handle(c, func(ctx context.Context, tx *sql.Tx, ev bus.Event[events.ProductCreated], b *batch) error {
		runs++
		if _, err := tx.ExecContext(ctx, `INSERT INTO changes (n) VALUES (1)`); err != nil {
			return err
		}
		usecase.Add(b, (*events.ExecutionOutbox).InventoryUpdated, inventoryUpdated(1))
		return result
	})
	ev := func() bus.Event[events.ProductCreated] {
		return bus.Event[events.ProductCreated]{Metadata: bus.Metadata{ID: uuid.New(), OrganizationID: f.env.Org, Delivered: 1}}
	}

	once := ev()
	require.NoError(t, h(ctx, once))
	require.NoError(t, h(ctx, once), "redelivered")
	assert.Equal(t, 1, runs)
	assert.Equal(t, 1, f.changes(t))
	f.env.Flush(f.out)
	assert.Len(t, f.env.Messages(seq), 1)

	result = usecase.ErrNothingToDo
	nothing := ev()
	require.NoError(t, h(ctx, nothing))
	result = errors.New("database locked")
	require.ErrorIs(t, h(ctx, nothing), result, "not recorded: it runs again")
	assert.Equal(t, 3, runs)
	assert.Equal(t, 1, f.changes(t), "nothing committed")
	f.env.Flush(f.out)
	assert.Len(t, f.env.Messages(seq), 1)
}

// TestHandleInAGroup: inside the inbox's Scope each reaction is applied
// behind its own savepoint: a failing one is undone alone, a duplicate is
// acknowledged, and the events of the group are published only once it
// has committed, never when it rolls back.
func TestHandleInAGroup(t *testing.T) {
	f := setUp(t)
	c := f.core(t, nil)
	ctx := f.env.Ctx()
	seq := f.env.LastSeq()

	fail := map[uuid.UUID]bool{}
	h := usecase.Handle(c, func(ctx context.Context, tx *sql.Tx, ev bus.Event[events.ProductCreated], b *batch) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO changes (n) VALUES (1)`); err != nil {
			return err
		}
		usecase.Add(b, (*events.ExecutionOutbox).InventoryUpdated, inventoryUpdated(1))
		if fail[ev.ID] {
			return errors.New("database locked")
		}
		return nil
	})
	ev := func() bus.Event[events.ProductCreated] {
		return bus.Event[events.ProductCreated]{Metadata: bus.Metadata{ID: uuid.New(), OrganizationID: f.env.Org, Delivered: 1}}
	}
	a, b, failing := ev(), ev(), ev()
	fail[failing.ID] = true

	var errs []error
	require.NoError(t, f.in.Scope(ctx, func(gctx context.Context) {
		for _, e := range []bus.Event[events.ProductCreated]{a, failing, b, a} {
			errs = append(errs, h(gctx, e))
		}
		assert.Empty(t, f.env.Messages(seq), "nothing is published before the group commits")
	}))
	assert.NoError(t, errs[0])
	assert.Error(t, errs[1], "the failing event is retried")
	assert.NoError(t, errs[2])
	assert.NoError(t, errs[3], "the duplicate is acknowledged")
	assert.Equal(t, 2, f.changes(t), "a and b once each; the failing event undone")
	f.env.Flush(f.out)
	assert.Len(t, f.env.Messages(seq), 2, "the events of a and b")

	// A group that cannot commit publishes nothing and changes nothing.
	gctx, cancel := context.WithCancel(ctx)
	err := f.in.Scope(gctx, func(gctx context.Context) {
		assert.NoError(t, h(gctx, ev()))
		cancel()
	})
	require.Error(t, err)
	assert.Equal(t, 2, f.changes(t))
	f.env.Flush(f.out)
	assert.Len(t, f.env.Messages(seq), 2)
}
