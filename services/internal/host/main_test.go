package host_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/giia/events/services/internal/host"
	st "github.com/giia/events/services/internal/servicetest"
)

// TestMainFailures: bad flags (exit 2) and a failed start (exit 1) are
// reported once, under the service's name. (The command of a real service
// is tested in its own package: services/execution's main_test.go.)
func TestMainFailures(t *testing.T) {
	var stderr st.SyncBuffer
	ctx := context.Background()
	never := func(context.Context, host.Flags) (host.Running, error) {
		t.Error("started despite bad flags")
		return nil, errors.New("started")
	}
	assert.Equal(t, 2, host.Main(ctx, "svc", "127.0.0.1:0", []string{"--bogus"}, &stderr, never))
	assert.Equal(t, 2, host.Main(ctx, "svc", "127.0.0.1:0", []string{"extra"}, &stderr, never))
	assert.Contains(t, stderr.String(), `svc: unexpected arguments ["extra"]`)
	assert.Equal(t, 1, host.Main(ctx, "svc", "", nil, &stderr, func(context.Context, host.Flags) (host.Running, error) {
		return nil, errors.New("no database")
	}))
	assert.Contains(t, stderr.String(), "svc: no database")
	assert.Equal(t, 1, host.Main(ctx, "svc", "", nil, &stderr, func(context.Context, host.Flags) (host.Running, error) {
		return nil, errors.New("svc: connect: refused")
	}))
	assert.Contains(t, stderr.String(), "\nsvc: connect: refused")
	assert.NotContains(t, stderr.String(), "svc: svc:")
}

func TestFlagsConfig(t *testing.T) {
	f := host.Flags{NATSURL: "nats://n:4222", HTTPAddr: "127.0.0.1:1", DBPath: "x.db", EnsureTopology: true, Logger: st.Quiet()}
	assert.Equal(t, host.Config{NATSURL: f.NATSURL, HTTPAddr: f.HTTPAddr, DBPath: f.DBPath, EnsureTopology: true, Logger: f.Logger}, f.Config())
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
