package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/services/sqlitedb"
)

// benchInbox is an inbox on SQLite set up as the services' delivery sets
// theirs (services/internal/delivery): its outbox's relay running and
// notified after a commit that added rows to it; each round has its own
// inbox table and counts the events it applies in bench_applied.
type benchInbox struct {
	db    *sql.DB
	out   *outbox.Outbox
	stmts []*sql.Stmt // the rounds' prepared statements, closed by stop
}

func (b *bench) benchInbox(ctx context.Context) (*benchInbox, func(), error) {
	db, err := sqlitedb.Open(ctx, filepath.Join(b.dir, "inbox.db"), "SELECT 1")
	if err != nil {
		return nil, nil, err
	}
	pub, err := bus.NewPublisher(b.conn, events.Catalog, events.ServiceDDMRP)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	out, err := outbox.New(db, pub, outbox.WithTable("bench_consume_outbox"))
	if err == nil {
		err = out.Migrate(ctx)
	}
	if err == nil {
		_, err = db.ExecContext(ctx, `CREATE TABLE bench_applied (round INTEGER PRIMARY KEY, n INTEGER NOT NULL)`)
	}
	if err == nil {
		err = out.Start()
	}
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	in := &benchInbox{db: db, out: out}
	stop := func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = out.Stop(c)
		for _, st := range in.stmts {
			_ = st.Close()
		}
		_ = db.Close()
	}
	return in, stop, nil
}

// inboxRound is the inbox of one round and its handler body.
type inboxRound struct {
	inbox   *outbox.Inbox
	process func(context.Context, uuid.UUID) error
}

// round returns the inbox of round r, on the round's own table, and the
// handler body: Inbox.Process, the state change one update of a row.
func (in *benchInbox) round(ctx context.Context, r int) (*inboxRound, error) {
	inbox, err := outbox.NewInbox(in.db, outbox.WithInboxTable(fmt.Sprintf("bench_inbox_%d", r)), outbox.WithNotify(in.out))
	if err != nil {
		return nil, err
	}
	if err := inbox.Migrate(ctx); err != nil {
		return nil, err
	}
	if _, err := in.db.ExecContext(ctx, `INSERT INTO bench_applied (round, n) VALUES (?, 0)`, r); err != nil {
		return nil, err
	}
	// As the services' reactions: the statement prepared once, run with
	// a context that does not end (services/internal/usecase.Handle).
	bump, err := in.db.PrepareContext(ctx, `UPDATE bench_applied SET n = n + 1 WHERE round = ?`)
	if err != nil {
		return nil, err
	}
	in.stmts = append(in.stmts, bump)
	return &inboxRound{inbox: inbox, process: func(ctx context.Context, id uuid.UUID) error {
		_, err := inbox.Process(ctx, events.ServiceDDMRP, id, func(tx *sql.Tx) error {
			sqlCtx := context.WithoutCancel(ctx)
			_, err := tx.StmtContext(sqlCtx, bump).ExecContext(sqlCtx, r)
			return err
		})
		return err
	}}, nil
}

// inboxConsume starts the generated ddmrp consumer with the consumer
// options the services run theirs with (services/internal/host's
// ConsumerOptions, which a tool cannot import: one group in flight, each
// group of up to outbox.DefaultScopeMax deliveries applied in one
// transaction of the inbox, Inbox.Scope) and r's handler body for
// sales_order.shipped, done called once an event's group committed.
func (b *bench) inboxConsume(ctx context.Context, durable string, r *inboxRound, done func()) (func(), error) {
	h := func(ctx context.Context, ev bus.Event[events.SalesOrderShipped]) error {
		if err := r.process(ctx, ev.ID); err != nil {
			return err
		}
		r.inbox.AfterCommit(ctx, func(context.Context) { done() })
		return nil
	}
	return b.sdkConsume(ctx, durable, h, bus.WithMaxInFlight(1), bus.WithHandlerScope(outbox.DefaultScopeMax, r.inbox.Scope))
}

// applied returns how many events round r applied.
func (in *benchInbox) applied(ctx context.Context, r int) (int, error) {
	var n int
	err := in.db.QueryRowContext(ctx, `SELECT n FROM bench_applied WHERE round = ?`, r).Scan(&n)
	return n, err
}
