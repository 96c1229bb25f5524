package sqlitedb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOwnerOnly: a new database and its WAL are readable by their owner
// only, whatever the umask.
func TestOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(context.Background(), path, "CREATE TABLE IF NOT EXISTS t (k INTEGER)")
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO t VALUES (1)")
	require.NoError(t, err)
	for _, p := range []string{path, path + "-wal"} {
		info, err := os.Stat(p)
		require.NoError(t, err, p)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), p)
	}
	require.NoError(t, db.Close())
}
