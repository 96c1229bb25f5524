package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	st "github.com/giia/events/services/internal/servicetest"
)

// TestRunServesUntilStopped: the command starts the service from its
// flags, serves its API and stops cleanly on SIGINT or SIGTERM (host.Main's
// other cases are tested there).
func TestRunServesUntilStopped(t *testing.T) {
	code, stderr := st.RunUntilStopped(t, run)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "execution service started")
	assert.Contains(t, stderr, "execution service stopped")
}

// TestRunFailures: bad flags exit 2; a server that cannot be reached
// exits 1 with the error named once after the service.
func TestRunFailures(t *testing.T) {
	var stderr st.SyncBuffer
	ctx := context.Background()
	assert.Equal(t, 2, run(ctx, []string{"--bogus"}, &stderr))
	assert.Equal(t, 2, run(ctx, []string{"extra"}, &stderr))
	assert.Contains(t, stderr.String(), `execution: unexpected arguments ["extra"]`)
	db := filepath.Join(t.TempDir(), "x.db")
	assert.Equal(t, 1, run(ctx, append([]string{"--nats", "nats://127.0.0.1:1", "--http", st.FreeAddr(t), "--db", db}, st.AuthFlags(t)...), &stderr))
	assert.Contains(t, stderr.String(), "\nexecution: connect")
	assert.NotContains(t, stderr.String(), "execution: execution:")
}
