package host_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/giia/events/services/execution/app"
	"github.com/giia/events/services/internal/host"
	st "github.com/giia/events/services/internal/servicetest"
)

// runExecution is what the execution service's main runs.
func runExecution(ctx context.Context, args []string, stderr io.Writer) int {
	return host.Main(ctx, "execution", "127.0.0.1:0", args, stderr, func(ctx context.Context, f host.Flags) (host.Running, error) {
		return app.Start(ctx, app.FromFlags(f))
	})
}

func TestMainServesUntilStopped(t *testing.T) {
	code, stderr := st.RunUntilStopped(t, runExecution)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "execution service started")
	assert.Contains(t, stderr, "execution service stopped")
}

func TestMainFailures(t *testing.T) {
	var stderr st.SyncBuffer
	ctx := context.Background()
	assert.Equal(t, 2, runExecution(ctx, []string{"--bogus"}, &stderr))
	assert.Equal(t, 2, runExecution(ctx, []string{"extra"}, &stderr))
	assert.Contains(t, stderr.String(), `execution: unexpected arguments ["extra"]`)
	db := filepath.Join(t.TempDir(), "x.db")
	assert.Equal(t, 1, runExecution(ctx, []string{"--nats", "nats://127.0.0.1:1", "--http", st.FreeAddr(t), "--db", db}, &stderr))
	assert.Contains(t, stderr.String(), "\nexecution: connect")
	assert.NotContains(t, stderr.String(), "execution: execution:")
	assert.Equal(t, 1, host.Main(ctx, "svc", "", nil, &stderr, func(context.Context, host.Flags) (host.Running, error) {
		return nil, errors.New("no database")
	}))
	assert.Contains(t, stderr.String(), "svc: no database")
}

// failing is a service whose HTTP server fails on its own and whose
// shutdown fails too.
type failing struct{ done chan error }

func (f failing) Done() <-chan error                 { return f.done }
func (f failing) Shutdown(ctx context.Context) error { return errors.New("database locked") }

func TestMainReportsAFailedServer(t *testing.T) {
	var stderr st.SyncBuffer
	code := host.Main(context.Background(), "svc", "127.0.0.1:0", nil, &stderr, func(ctx context.Context, f host.Flags) (host.Running, error) {
		assert.Equal(t, "svc.db", f.DBPath)
		assert.Equal(t, "nats://127.0.0.1:4222", f.NATSURL)
		assert.True(t, f.EnsureTopology)
		done := make(chan error, 1)
		done <- errors.New("listener closed")
		return failing{done: done}, nil
	})
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "svc: http server: listener closed")
	assert.Contains(t, stderr.String(), "svc: shutdown: database locked")
}
