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

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/services/internal/host"
)

// Service is what the lifecycle suite uses of a running service.
type Service interface {
	host.Running
	Consumers() []string
	URL() string
}

// App is a service's app package under the lifecycle suite.
type App struct {
	Name     string                                                   // the catalog's service name
	Validate func(host.Flags) error                                   // app.FromFlags(f).Validate()
	Start    func(ctx context.Context, f host.Flags) (Service, error) // app.Start(ctx, app.FromFlags(f))
}

// RunLifecycleSuite holds a service's app to the lifecycle every service
// shares (services/internal/host): configuration checked as a whole, the
// topology set up on a fresh server only when asked, one durable named
// after the service, an API that answers until a shutdown (which may be
// called twice), and clear errors for a missing database folder, an
// unreachable server and a taken HTTP address.
func RunLifecycleSuite(t *testing.T, a App) {
	flags := func(t *testing.T, url string) host.Flags {
		return host.Flags{NATSURL: url, HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), a.Name+".db"), Logger: Quiet()}
	}
	t.Run("config", func(t *testing.T) {
		err := a.Validate(host.Flags{})
		require.Error(t, err)
		for _, flag := range []string{"--nats", "--http", "--db"} {
			assert.ErrorContains(t, err, flag)
		}
		_, err = a.Start(context.Background(), host.Flags{})
		assert.Error(t, err)
	})
	t.Run("fresh server", func(t *testing.T) {
		srv := bustest.RunServer(t)
		if srv.External() {
			t.Skip("needs a server of its own")
		}
		_, err := a.Start(context.Background(), flags(t, srv.URL()))
		require.Error(t, err, "no stream yet")

		f := flags(t, srv.URL())
		f.EnsureTopology = true
		svc, err := a.Start(context.Background(), f)
		require.NoError(t, err)
		assert.Equal(t, []string{bus.ConsumerName(a.Name)}, svc.Consumers())
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
		f := flags(t, env.Server.URL())
		f.DBPath = filepath.Join(t.TempDir(), "missing", "dir", "x.db")
		_, err := a.Start(context.Background(), f)
		assert.ErrorContains(t, err, "sqlitedb")

		_, err = a.Start(context.Background(), flags(t, "nats://127.0.0.1:1"))
		assert.ErrorContains(t, err, "connect")

		busy, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer busy.Close()
		f = flags(t, env.Server.URL())
		f.HTTPAddr = busy.Addr().String()
		_, err = a.Start(context.Background(), f)
		assert.ErrorContains(t, err, "listen")
	})
}
