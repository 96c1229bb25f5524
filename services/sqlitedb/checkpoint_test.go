package sqlitedb

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testSchema = `CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)`

// openWith opens a database with the checkpointer's times set to idle and
// maxDelay.
func openWith(t *testing.T, idle, maxDelay time.Duration) (*sql.DB, *connector, string) {
	t.Helper()
	oldIdle, oldMax := CheckpointIdle, CheckpointMaxDelay
	CheckpointIdle, CheckpointMaxDelay = idle, maxDelay
	defer func() { CheckpointIdle, CheckpointMaxDelay = oldIdle, oldMax }()
	path := filepath.Join(t.TempDir(), "c.db")
	db, c, err := open(context.Background(), path, testSchema)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db, c, path
}

func insert(t *testing.T, db *sql.DB, k int) {
	t.Helper()
	_, err := db.Exec(`INSERT INTO t (k, v) VALUES (?, 'some text to write a page')`, k)
	require.NoError(t, err)
}

// walFrames returns how many frames the WAL holds now, and how many of
// them are in the database file.
func walFrames(t *testing.T, db *sql.DB) (log, copied int64) {
	t.Helper()
	var busy int64
	require.NoError(t, db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied))
	return log, copied
}

// TestCommitsDoNotCheckpoint: the connection requests use never
// checkpoints in a commit; the checkpointer does, once the writes pause,
// and starts the WAL over itself.
func TestCommitsDoNotCheckpoint(t *testing.T) {
	db, c, _ := openWith(t, 30*time.Millisecond, time.Hour)
	var auto int
	require.NoError(t, db.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto))
	assert.Zero(t, auto, "no checkpoint inside a commit")

	before := c.nCheckpoints.Load()
	for k := range 300 {
		insert(t, db, k)
	}
	restarts := c.nRestarts.Load() // a pause of the loop may have caused some
	// Wait on the counter, not on the database: a read of the WAL while the
	// checkpointer restarts it keeps SQLite from starting it over.
	require.Eventually(t, func() bool { return c.nRestarts.Load() > restarts }, 5*time.Second, 5*time.Millisecond,
		"the checkpointer never restarted the WAL once the writes paused")
	log, _ := walFrames(t, db)
	assert.LessOrEqual(t, log, int64(2), "the checkpointer copied the WAL and started it over: of 300 commits' frames only the restart's write is left")
	assert.Greater(t, c.nCheckpoints.Load(), before)
	var n, version int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
	require.NoError(t, db.QueryRow(`PRAGMA user_version`).Scan(&version))
	assert.Equal(t, 300, n)
	assert.Zero(t, version, "the restart changes nothing")

	// The next commit appends to the restarted WAL.
	insert(t, db, 1000)
	log, _ = walFrames(t, db)
	assert.LessOrEqual(t, log, int64(4))
}

// TestCheckpointUnderContinuousWrites: writes that never pause are
// checkpointed every CheckpointMaxDelay; the WAL is not started over by
// the checkpointer then (a request would wait for its write).
func TestCheckpointUnderContinuousWrites(t *testing.T) {
	db, c, _ := openWith(t, time.Hour, 40*time.Millisecond)
	before := c.nCheckpoints.Load()
	deadline := time.Now().Add(400 * time.Millisecond)
	for k := 0; time.Now().Before(deadline); k++ {
		insert(t, db, k)
		time.Sleep(time.Millisecond)
	}
	assert.GreaterOrEqual(t, c.nCheckpoints.Load()-before, int64(3), "about one every 40ms")
	assert.Zero(t, c.nRestarts.Load(), "never idle")
}

// TestCheckpointerStops: closing the database stops the checkpointer and
// runs the final checkpoint, which removes the WAL.
func TestCheckpointerStops(t *testing.T) {
	db, c, path := openWith(t, time.Millisecond, time.Hour)
	insert(t, db, 1)
	require.NoError(t, db.Close())
	select {
	case <-c.done:
	default:
		t.Fatal("the checkpointer still runs")
	}
	_, err := os.Stat(path + "-wal")
	assert.True(t, os.IsNotExist(err), "the last connection to close checkpointed the WAL and removed it: %v", err)
	assert.NoError(t, c.Close(), "closing twice")

	db, err = Open(context.Background(), path, testSchema)
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
	assert.Equal(t, 1, n)
	require.NoError(t, db.Close())
}

func TestCheckpointDue(t *testing.T) {
	c := &connector{idleFor: 20 * time.Millisecond, maxDelay: time.Second}
	now := time.Now()
	c.first.Store(now.Add(-10 * time.Millisecond).UnixNano())
	c.last.Store(now.Add(-5 * time.Millisecond).UnixNano())
	assert.Equal(t, 15*time.Millisecond, c.due(now), "20ms after the last commit")
	assert.False(t, c.idle(now))
	c.first.Store(now.Add(-995 * time.Millisecond).UnixNano())
	assert.Equal(t, 5*time.Millisecond, c.due(now), "1s after the first commit not checkpointed, when that is sooner")
	assert.True(t, c.idle(now.Add(15*time.Millisecond)))
}

// TestCheckpointRace: a commit whose hook ran just before a checkpoint
// started may write its frames after it: while it holds the write lock
// another checkpoint is armed for it; once nothing writes and nothing
// landed since, none is.
func TestCheckpointRace(t *testing.T) {
	db, c, _ := openWith(t, time.Hour, time.Hour)
	tx, err := db.Begin()
	require.NoError(t, err)
	_, err = tx.Exec(`INSERT INTO t (k, v) VALUES (1, 'x')`)
	require.NoError(t, err)
	c.committed() // its COMMIT starts: the hook runs, the frames are not in the WAL yet
	c.checkpoint(c.ckpt)
	assert.NotZero(t, c.first.Load(), "armed again")
	require.NoError(t, tx.Commit())
	c.first.Store(0)
	c.last.Store(time.Now().Add(-time.Second).UnixNano())
	c.checkpoint(c.ckpt)
	assert.Zero(t, c.first.Load(), "an old commit is in the checkpoint")
}
