package sqlitedb_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/services/sqlitedb"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlitedb.Open(ctx, path, `CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT UNIQUE)`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO t VALUES ('a', 'x')`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO t VALUES ('a', 'y')`)
	assert.True(t, sqlitedb.IsUniqueViolation(err), "primary key: %v", err)
	_, err = db.ExecContext(ctx, `INSERT INTO t VALUES ('b', 'x')`)
	assert.True(t, sqlitedb.IsUniqueViolation(err), "unique: %v", err)
	_, err = db.ExecContext(ctx, `INSERT INTO nowhere VALUES (1)`)
	assert.False(t, sqlitedb.IsUniqueViolation(err))
	assert.False(t, sqlitedb.IsUniqueViolation(nil))
	assert.True(t, sqlitedb.IsUniqueViolation(errors.New("UNIQUE constraint failed: t.v")))
	require.NoError(t, db.Close())

	// The schema runs again on an existing database.
	db, err = sqlitedb.Open(ctx, path, `CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT UNIQUE)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = sqlitedb.Open(ctx, "", "")
	assert.Error(t, err)
	_, err = sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "u.db"), `CREATE TABLE (`)
	assert.ErrorContains(t, err, "create schema")
}
