package app_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/services/execution/app"
	st "github.com/giia/events/services/internal/servicetest"
)

func TestConfigValidate(t *testing.T) {
	err := app.Config{}.Validate()
	require.Error(t, err)
	for _, flag := range []string{"--nats", "--http", "--db"} {
		assert.ErrorContains(t, err, flag)
	}
	_, err = app.Start(context.Background(), app.Config{})
	assert.Error(t, err)
}

func config(t *testing.T, url string) app.Config {
	return app.Config{NATSURL: url, HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), "e.db"), Logger: st.Quiet()}
}

// TestStartOnAFreshServer: with EnsureTopology the service sets up the
// stream and its consumer itself; without, it needs them.
func TestStartOnAFreshServer(t *testing.T) {
	srv := bustest.RunServer(t)
	if srv.External() {
		t.Skip("needs a server of its own")
	}
	_, err := app.Start(context.Background(), config(t, srv.URL()))
	require.Error(t, err, "no stream yet")

	cfg := config(t, srv.URL())
	cfg.EnsureTopology = true
	cfg.Clock = time.Now
	svc, err := app.Start(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, []string{"execution-service"}, svc.Consumers())
	resp, err := http.Get(svc.URL() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, svc.Shutdown(ctx))
	require.NoError(t, svc.Shutdown(ctx), "twice is fine")
	select {
	case err := <-svc.Done():
		assert.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("the HTTP server never reported its end")
	}
	_, err = http.Get(svc.URL() + "/healthz")
	assert.Error(t, err, "no longer listening")
}

func TestStartFailures(t *testing.T) {
	env := st.New(t)
	cfg := config(t, env.Server.URL())
	cfg.DBPath = filepath.Join(t.TempDir(), "missing", "dir", "e.db")
	_, err := app.Start(context.Background(), cfg)
	assert.ErrorContains(t, err, "sqlitedb")

	_, err = app.Start(context.Background(), config(t, "nats://127.0.0.1:1"))
	assert.ErrorContains(t, err, "connect")

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	cfg = config(t, env.Server.URL())
	cfg.HTTPAddr = busy.Addr().String()
	_, err = app.Start(context.Background(), cfg)
	assert.ErrorContains(t, err, "listen")
}
