// Package sqlitedb opens the embedded SQLite database of a service
// (modernc.org/sqlite, pure Go) and creates its schema. It is not under
// services/internal because the tools open theirs the same way: the
// consumers cmd/chaos runs keep their state like a service, and cmd/bench
// measures the outbox on a service's settings.
package sqlitedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// When the background checkpointer of a database opened by Open copies
// the write-ahead log into the database file: once no transaction has
// committed for CheckpointIdle, and at the latest CheckpointMaxDelay after
// the first commit it has not copied yet.
//
// Why a background checkpointer: SQLite's default, wal_autocheckpoint
// (1000 pages), runs the checkpoint inside the COMMIT that crosses the
// threshold, on the caller's connection. With synchronous=NORMAL the
// checkpoint is where SQLite calls fsync (the WAL, then the database
// file), so about one request in a hundred paid 5-15 ms of fsync in its
// commit while holding the service's only connection: the next request
// and the outbox relay waited behind it. The connection serving requests
// therefore runs with wal_autocheckpoint=0, and a goroutine with a
// connection of its own runs PRAGMA wal_checkpoint(PASSIVE), which takes
// no lock that writers or readers wait for.
//
// Why when the database is idle rather than on a timer: measured on the
// order operation, whatever connection runs it, a checkpoint's fsyncs also
// hold up every other writer of the file system for about as long (the
// ext4 journal commits; on the benchmark machine the embedded NATS
// server's message store stalled 10-15 ms, and so did the events of the
// requests in flight), and the first commit after a complete checkpoint
// syncs the restarted WAL's header. Checkpointing during a pause in the
// writes keeps both away from requests; under uninterrupted writes the
// checkpoint still runs, CheckpointMaxDelay after the first commit it has
// not copied.
//
// Durability is that of WAL with synchronous=NORMAL, as before: a commit
// is durable against a crash of the process as soon as COMMIT returns (the
// WAL is in the operating system's cache), and against a power loss once
// a checkpoint has synced the WAL. Before, that happened every 1000 pages
// (never, on a quiet service); now it happens CheckpointIdle after the
// writes pause and at least every CheckpointMaxDelay while they go on.
// Closing the database runs a final checkpoint, as before.
var (
	CheckpointIdle     = 20 * time.Millisecond
	CheckpointMaxDelay = time.Second
)

// Open opens (creating when needed) the database at path and runs schema,
// a script of CREATE ... IF NOT EXISTS statements. Writes are serialised
// through one connection: SQLite has one writer anyway, and a single
// connection makes every transaction see the last committed state.
// Checkpoints run in the background (see CheckpointIdle) and stop when the
// returned database is closed.
func Open(ctx context.Context, path, schema string) (*sql.DB, error) {
	db, _, err := open(ctx, path, schema)
	return db, err
}

// open is Open, and returns the database's connector for the tests.
func open(ctx context.Context, path, schema string) (*sql.DB, *connector, error) {
	if path == "" {
		return nil, nil, errors.New("sqlitedb: empty database path")
	}
	// The file holds every tenant's data: readable by its owner only.
	// SQLite gives its -wal and -shm files the database's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	_ = f.Close()
	q := pragmas(5000)
	// No checkpoint inside a commit: the checkpointer does them (see
	// CheckpointIdle).
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Set("_txlock", "immediate")
	base, err := sqlite.NewConnector("file:" + path + "?" + q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	c := &connector{Connector: base, path: path, kick: make(chan struct{}, 1),
		idleFor: CheckpointIdle, maxDelay: CheckpointMaxDelay}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("sqlitedb: create schema in %s: %w", path, err)
	}
	// Started once the schema ran, so that the file exists and is in WAL
	// mode before the checkpointer's connection opens it.
	if err := c.startCheckpointer(); err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	return db, c, nil
}

// pragmas are the settings of every connection to a service's database;
// busyTimeout is in milliseconds.
func pragmas(busyTimeout int) url.Values {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// synchronous applies per connection: the checkpointer's must sync the
	// WAL and the database file as the writer's own checkpoints did.
	q.Add("_pragma", "synchronous(NORMAL)")
	return q
}

// connector opens the connections of a database opened by Open, with a
// commit hook that tells the checkpointer about the writes. It owns the
// checkpointer, which sql.DB.Close stops through Close (database/sql
// closes a connector that is an io.Closer).
type connector struct {
	driver.Connector
	path              string
	idleFor, maxDelay time.Duration // CheckpointIdle, CheckpointMaxDelay at Open

	// What the commit hook records, in Unix nanoseconds: the last commit,
	// and the first one not checkpointed yet (0: none).
	last, first atomic.Int64
	kick        chan struct{} // a commit happened

	nCheckpoints, nRestarts atomic.Int64 // done so far, for the tests

	mu   sync.Mutex
	stop chan struct{} // closed by Close; nil before startCheckpointer
	done chan struct{} // closed when the checkpointer returned
	ckpt *sql.DB       // the checkpointer's own connection
}

// Connect opens a connection and hooks its commits.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if h, ok := conn.(sqlite.HookRegisterer); ok {
		h.RegisterCommitHook(c.committed)
	}
	return conn, nil
}

// committed is the commit hook: it runs inside COMMIT, so it only records
// the time, and wakes the checkpointer for the first commit since its
// last checkpoint (for the next ones it is already waiting for its
// deadline: waking it at every commit cost a goroutine switch per
// request); 0 lets the commit proceed.
func (c *connector) committed() int32 {
	now := time.Now().UnixNano()
	c.last.Store(now)
	if c.first.CompareAndSwap(0, now) {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return 0
}

// startCheckpointer starts the goroutine that checkpoints the database on
// a connection of its own.
func (c *connector) startCheckpointer() error {
	// busy_timeout 0: never wait for the write lock (see confirm). A
	// request that holds it is writing; the checkpointer tries again later
	// rather than wait up to the busy timeout and then take the lock in the
	// middle of the writes that follow. PASSIVE checkpoints and reads never
	// wait for it anyway.
	q := pragmas(0)
	// Its own commits (restartWAL's) never checkpoint either: SQLite's
	// automatic checkpoint would run inside them, holding the write lock.
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Set("_txlock", "immediate") // confirm
	base, err := sqlite.NewConnector("file:" + c.path + "?" + q.Encode())
	if err != nil {
		return err
	}
	ckpt := sql.OpenDB(base)
	ckpt.SetMaxOpenConns(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ckpt = ckpt
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.checkpoints(ckpt, c.stop, c.done)
	return nil
}

// checkpoints runs a PASSIVE checkpoint whenever due (see due) until stop
// is closed. A failed checkpoint (a disk error, say) is tried again with
// the next commit: it delays nothing but the copy into the database file,
// and the next commit or the final checkpoint at Close reports a lasting
// disk error.
func (c *connector) checkpoints(db *sql.DB, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		var wait <-chan time.Time
		if c.first.Load() != 0 {
			if d := c.due(time.Now()); d > 0 {
				t.Reset(d)
				wait = t.C
			} else {
				select {
				case <-stop:
					return
				default:
				}
				c.checkpoint(db)
				continue
			}
		}
		select {
		case <-stop:
			return
		case <-c.kick:
		case <-wait:
		}
		t.Stop()
	}
}

// checkpoint runs one PASSIVE checkpoint: it copies what was committed
// when it starts, then makes sure that no commit escaped it (see confirm).
func (c *connector) checkpoint(db *sql.DB) {
	c.first.Store(0) // commits hooked from now on wait for the next checkpoint
	before, err := dataVersion(db)
	if err != nil {
		return // tried again with the next commit
	}
	var busy, log, copied int64
	if err := db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return
	}
	c.nCheckpoints.Add(1)
	if c.first.Load() != 0 {
		return // a commit hooked meanwhile: another checkpoint follows anyway
	}
	c.confirm(db, before, busy == 0 && log > 0 && copied == log)
}

// confirm ends a checkpoint that no commit hooked during: it arms another
// one if a commit may have escaped it, and otherwise, when the checkpoint
// copied the whole WAL and the database is idle, starts the WAL over (see
// restartWAL).
//
// Why: the commit hook runs at the start of COMMIT, before the commit
// writes its frames into the WAL, and a commit hooked just before the
// checkpoint cleared first may write them after the checkpoint took its
// snapshot, however long after (a large transaction, a goroutine
// descheduled): nothing would copy it until the next commit, which on a
// quiet service may never come. A commit holds the write lock until its
// frames are in: confirm takes it, without waiting (busy_timeout 0 on
// this connection). Taken, every commit hooked before has landed, and
// data_version says whether one landed after the checkpoint began. Not
// taken (a request writes), it tries again CheckpointIdle later.
func (c *connector) confirm(db *sql.DB, before int64, complete bool) {
	tx, err := db.Begin() // BEGIN IMMEDIATE, failing at once if a request writes
	if err != nil {
		c.rearm()
		return
	}
	defer tx.Rollback()
	after, err := dataVersion(tx)
	if err != nil || after != before {
		c.rearm() // a commit landed after the checkpoint began
		return
	}
	if complete && c.idle(time.Now()) && restartWAL(tx) == nil {
		c.nRestarts.Add(1)
	}
}

// rearm asks for another checkpoint CheckpointIdle from now, as a commit
// now would.
func (c *connector) rearm() {
	now := time.Now().UnixNano()
	c.last.Store(now)
	if c.first.CompareAndSwap(0, now) {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// dataVersion returns SQLite's data_version, which changes when another
// connection commits.
func dataVersion(q interface {
	QueryRow(string, ...any) *sql.Row
}) (int64, error) {
	var v int64
	err := q.QueryRow(`PRAGMA data_version`).Scan(&v)
	return v, err
}

// idle reports whether no commit happened for CheckpointIdle.
func (c *connector) idle(now time.Time) bool {
	return now.Sub(time.Unix(0, c.last.Load())) >= c.idleFor
}

// restartWAL makes the checkpointer's connection start the WAL over, once
// a checkpoint copied all of it, rather than the next request: the first
// commit into a restarted WAL writes the WAL's header and, with
// synchronous=NORMAL, fsyncs it (SQLite needs the header durable before
// the frames that follow it overwrite old ones). Without this, every
// request that came after a pause paid that fsync. The write is one that
// changes nothing: user_version set to its own value, in tx, an IMMEDIATE
// transaction, so that nothing commits between the read and the write.
// Done only while the database is idle, so that a request rarely finds
// the write lock taken (it would wait for it, busy_timeout).
func restartWAL(tx *sql.Tx) error {
	var v int64
	if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		return err
	}
	return tx.Commit()
}

// due returns how long until a checkpoint is due: CheckpointIdle after
// the last commit, or CheckpointMaxDelay after the first one not
// checkpointed, whichever comes first; 0 or less when it is due now.
func (c *connector) due(now time.Time) time.Duration {
	idle := time.Unix(0, c.last.Load()).Add(c.idleFor)
	latest := time.Unix(0, c.first.Load()).Add(c.maxDelay)
	if latest.Before(idle) {
		idle = latest
	}
	return idle.Sub(now)
}

// Close stops the checkpointer and closes its connection. database/sql
// calls it from DB.Close, after closing the idle connections; the last
// connection to close checkpoints the whole WAL into the database file.
func (c *connector) Close() error {
	c.mu.Lock()
	stop, done, ckpt := c.stop, c.done, c.ckpt
	c.stop, c.ckpt = nil, nil
	c.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	<-done
	return ckpt.Close()
}

// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failure.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
