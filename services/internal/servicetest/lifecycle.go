package servicetest

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
	"github.com/giia/events/sdk/spec"
	"github.com/giia/events/services/internal/host"
)

// App is a service's app package under the lifecycle suite.
type App struct {
	Name     string                                                            // the catalog's service name
	Validate func(host.Config) error                                           // app.Validate
	Start    func(ctx context.Context, cfg host.Config) (*host.Service, error) // app.Start
}

// RunLifecycleSuite holds a service's app to the lifecycle every service
// shares (services/internal/host): configuration checked as a whole, the
// topology set up on a fresh server only when asked, one durable named
// after the service, an API that answers until a shutdown (which may be
// called twice), and clear errors for a missing database folder, an
// unreachable server and a taken HTTP address.
func RunLifecycleSuite(t *testing.T, a App) {
	config := func(t *testing.T, url string) host.Config {
		return host.Config{NATSURL: url, HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), a.Name+".db"), Logger: Quiet()}
	}
	t.Run("config", func(t *testing.T) {
		err := a.Validate(host.Config{})
		require.Error(t, err)
		for _, flag := range []string{"--nats", "--http", "--db"} {
			assert.ErrorContains(t, err, flag)
		}
		_, err = a.Start(context.Background(), host.Config{})
		assert.Error(t, err)
	})
	t.Run("fresh server", func(t *testing.T) {
		srv := bustest.RunServer(t)
		if srv.External() {
			t.Skip("needs a server of its own")
		}
		_, err := a.Start(context.Background(), config(t, srv.URL()))
		require.Error(t, err, "no stream yet")

		cfg := config(t, srv.URL())
		cfg.EnsureTopology = true
		svc, err := a.Start(context.Background(), cfg)
		require.NoError(t, err)
		assert.Equal(t, []string{spec.ConsumerName(a.Name)}, svc.Consumers())
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
	})
	t.Run("failures", func(t *testing.T) {
		env := New(t)
		cfg := config(t, env.Server.URL())
		cfg.DBPath = filepath.Join(t.TempDir(), "missing", "dir", "x.db")
		_, err := a.Start(context.Background(), cfg)
		assert.ErrorContains(t, err, "sqlitedb")

		_, err = a.Start(context.Background(), config(t, "nats://127.0.0.1:1"))
		assert.ErrorContains(t, err, "connect")

		busy, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer busy.Close()
		cfg = config(t, env.Server.URL())
		cfg.HTTPAddr = busy.Addr().String()
		_, err = a.Start(context.Background(), cfg)
		assert.ErrorContains(t, err, "listen")
	})
}
