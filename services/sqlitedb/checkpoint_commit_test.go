package sqlitedb

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walIndex reads, without checkpointing, how many frames the WAL holds
// and how many of them the database file has: the WAL index (the -shm
// file) starts with its header, whose mxFrame is at byte 16, and its
// checkpoint information, whose nBackfill is at byte 96, in the machine's
// byte order.
func walIndex(t *testing.T, path string) (frames, copied uint32) {
	t.Helper()
	b, err := os.ReadFile(path + "-shm")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), 100)
	return binary.NativeEndian.Uint32(b[16:]), binary.NativeEndian.Uint32(b[96:])
}

// TestCheckpointSlowCommit: a commit whose frames reach the WAL after a
// checkpoint began (its hook ran before) is checkpointed all the same,
// however long it takes: here a 24 MB transaction, its WAL write taking
// far longer than a guessed margin, while checkpoints are due every 2ms.
func TestCheckpointSlowCommit(t *testing.T) {
	db, c, path := openWith(t, time.Hour, 2*time.Millisecond)
	_, err := db.Exec(`PRAGMA cache_size = -100000`) // the one connection: no spill before COMMIT
	require.NoError(t, err)
	insert(t, db, 0)
	require.Eventually(t, func() bool { f, cp := walIndex(t, path); return f == cp }, 5*time.Second, time.Millisecond)

	tx, err := db.Begin()
	require.NoError(t, err)
	v := strings.Repeat("x", 3000)
	for k := 1; k <= 6000; k++ {
		_, err := tx.Exec(`INSERT INTO t (k, v) VALUES (?, ?)`, k, v)
		require.NoError(t, err)
	}
	t0 := time.Now()
	require.NoError(t, tx.Commit())
	t.Logf("COMMIT took %v; %d checkpoints so far", time.Since(t0), c.nCheckpoints.Load())
	require.Eventually(t, func() bool { f, cp := walIndex(t, path); return f > 6000 && f == cp }, 3*time.Second, 5*time.Millisecond,
		"the commit is copied into the database file within CheckpointMaxDelay, not left in the WAL until the next commit")
}

// TestRestartWALDoesNotWait: the checkpointer never waits for the write
// lock a request holds (busy_timeout would keep it up to 5s, then take the
// lock in the middle of the writes that follow); it tries again later.
func TestRestartWALDoesNotWait(t *testing.T) {
	db, c, path := openWith(t, 10*time.Millisecond, time.Hour)
	insert(t, db, 1)
	require.Eventually(t, func() bool { return c.nRestarts.Load() > 0 && c.first.Load() == 0 }, 5*time.Second, time.Millisecond)
	restarts := c.nRestarts.Load()

	tx, err := db.Begin() // a request: BEGIN IMMEDIATE, the write lock
	require.NoError(t, err)
	_, err = tx.Exec(`INSERT INTO t (k, v) VALUES (2, 'x')`)
	require.NoError(t, err)
	// Idle: the last commit is older than CheckpointIdle.
	require.Eventually(t, func() bool { return c.idle(time.Now()) }, time.Second, time.Millisecond)
	t0 := time.Now()
	c.checkpoint(c.ckpt)
	took := time.Since(t0)
	assert.Less(t, took, 500*time.Millisecond, "the checkpointer does not wait for the request's lock")
	assert.Equal(t, restarts, c.nRestarts.Load(), "no restart while a request writes")
	assert.NotZero(t, c.first.Load(), "another checkpoint follows the request")
	require.NoError(t, tx.Commit())
	require.Eventually(t, func() bool { return c.nRestarts.Load() > restarts }, 5*time.Second, time.Millisecond,
		"the request's commit checkpointed and the WAL started over once idle again")
	frames, _ := walIndex(t, path)
	assert.LessOrEqual(t, frames, uint32(2), "only the restart's write is in the WAL")
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n))
	assert.Equal(t, 2, n)
}
