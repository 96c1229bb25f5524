package servicetest

import (
	"context"
	"encoding/json"
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
		return host.Config{NATSURL: url, HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), a.Name+".db"), Logger: Quiet(), HTTPAuth: DevAuth(t)}
	}
	t.Run("config", func(t *testing.T) {
		err := a.Validate(host.Config{})
		require.Error(t, err)
		for _, flag := range []string{"--nats", "--http", "--db", "--auth-issuer", "--auth-audience", "--auth-jwks"} {
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
	t.Run("probes", func(t *testing.T) {
		srv := bustest.RunServer(t)
		if srv.External() {
			t.Skip("stops its server")
		}
		cfg := config(t, srv.URL())
		cfg.EnsureTopology = true
		svc, err := a.Start(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = svc.Shutdown(ctx)
		})
		probe := func(path string) (int, map[string]any) {
			t.Helper()
			resp, err := http.Get(svc.URL() + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body
		}
		status, body := probe("/readyz")
		assert.Equal(t, http.StatusOK, status, "%v", body)
		assert.Equal(t, map[string]any{"nats": "ok", "consumer": "ok", "database": "ok", "outbox_relay": "ok"}, body["checks"])
		status, _ = probe("/livez")
		assert.Equal(t, http.StatusOK, status)
		status, _ = probe("/no-such-path")
		assert.Equal(t, http.StatusNotFound, status, "an unknown path is 404 without any identity header")

		// NATS stops: not ready within 5 s, though alive.
		srv.Shutdown()
		stopped := time.Now()
		waitFor := func(want int, within time.Duration) map[string]any {
			t.Helper()
			for deadline := time.Now().Add(within); ; {
				status, body := probe("/readyz")
				if status == want {
					return body
				}
				if time.Now().After(deadline) {
					t.Fatalf("/readyz answered %d, not %d, for %v: %v", status, want, within, body)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		body = waitFor(http.StatusServiceUnavailable, 5*time.Second)
		t.Logf("503 %v after NATS stopped: %v", time.Since(stopped).Round(time.Millisecond), body)
		assert.Equal(t, "unavailable", body["status"])
		checks := body["checks"].(map[string]any)
		assert.Equal(t, "ok", checks["database"])
		assert.True(t, checks["nats"] != "ok" || checks["consumer"] != "ok", "NATS or the consumer is named: %v", checks)
		status, _ = probe("/livez")
		assert.Equal(t, http.StatusOK, status)

		// NATS is back: ready again.
		srv.Start()
		waitFor(http.StatusOK, 15*time.Second)
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
