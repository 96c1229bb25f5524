package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/internal/host"
	st "github.com/giia/events/services/internal/servicetest"
)

// env is a fixed environment for ParseFlags.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

// TestFlagsFromEnvironment: every flag falls back to its variables, the
// command line wins over them, GIIA_NATS_URL over NATS_URL.
func TestFlagsFromEnvironment(t *testing.T) {
	vars := env{
		"NATS_URL": "nats://other:4222", "GIIA_NATS_URL": "nats://n:4222", "GIIA_HTTP_ADDR": "127.0.0.1:9",
		"GIIA_DB": "/data/x.db", "GIIA_ENSURE_TOPOLOGY": "false", "GIIA_NATS_USER": "svc",
		"GIIA_NATS_PASSWORD_FILE": "/run/secrets/p", "GIIA_NATS_CREDS": "/c.creds", "GIIA_NATS_TLS_CERT": "/t.crt",
		"GIIA_NATS_TLS_KEY": "/t.key", "GIIA_NATS_TLS_CA": "/ca.pem", "GIIA_LOG_FORMAT": "json", "GIIA_LOG_LEVEL": "warn",
		"GIIA_HTTP_READ_TIMEOUT": "3s", "GIIA_HTTP_MAX_CONCURRENT": "8",
	}
	var stderr bytes.Buffer
	f, err := host.ParseFlags("svc", "127.0.0.1:0", nil, vars.lookup, &stderr)
	require.NoError(t, err)
	assert.Equal(t, "nats://n:4222", f.NATSURL)
	assert.Equal(t, "127.0.0.1:9", f.HTTPAddr)
	assert.Equal(t, "/data/x.db", f.DBPath)
	assert.False(t, f.EnsureTopology)
	assert.Equal(t, host.NATSAuth{User: "svc", PasswordFile: "/run/secrets/p", CredsFile: "/c.creds", TLSCert: "/t.crt", TLSKey: "/t.key", TLSCA: "/ca.pem"}, f.Auth)
	assert.Equal(t, host.LogSettings{Format: "json", Level: "warn"}, f.Log)
	assert.Equal(t, 3*time.Second, f.HTTP.ReadTimeout)
	assert.Equal(t, 8, f.HTTP.MaxConcurrent)
	assert.Equal(t, f.HTTP, f.Config().HTTP)

	delete(vars, "GIIA_NATS_URL")
	f, err = host.ParseFlags("svc", "127.0.0.1:0", []string{"--db", "cli.db", "--ensure-topology"}, vars.lookup, &stderr)
	require.NoError(t, err)
	assert.Equal(t, "nats://other:4222", f.NATSURL, "NATS_URL when GIIA_NATS_URL is unset")
	assert.Equal(t, "cli.db", f.DBPath, "the command line wins")
	assert.True(t, f.EnsureTopology)

	f, err = host.ParseFlags("svc", "127.0.0.1:7", nil, env{}.lookup, &stderr)
	require.NoError(t, err)
	assert.Equal(t, host.Flags{NATSURL: "nats://127.0.0.1:4222", HTTPAddr: "127.0.0.1:7", DBPath: "svc.db", EnsureTopology: true,
		HTTP: host.HTTPLimits{ReadTimeout: host.DefaultReadTimeout, WriteTimeout: host.DefaultWriteTimeout, IdleTimeout: host.DefaultIdleTimeout,
			MaxHeaderBytes: host.DefaultMaxHeaderBytes, RequestTimeout: host.DefaultRequestTimeout, MaxConcurrent: host.DefaultMaxConcurrent},
		Log: host.LogSettings{Format: "text", Level: "info"}, Logger: f.Logger}, f)

	for name, vars := range map[string]env{
		`GIIA_ENSURE_TOPOLOGY="maybe" (for --ensure-topology)`: {"GIIA_ENSURE_TOPOLOGY": "maybe"},
		`log format "xml"`: {"GIIA_LOG_FORMAT": "xml"},
		`log level "loud"`: {"GIIA_LOG_LEVEL": "loud"},
	} {
		_, err := host.ParseFlags("svc", "", nil, vars.lookup, &stderr)
		assert.ErrorContains(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "svc: "), err)
	}
}

// TestHelpListsVariables: --help names each flag's variables.
func TestHelpListsVariables(t *testing.T) {
	var stderr bytes.Buffer
	_, err := host.ParseFlags("svc", "127.0.0.1:0", []string{"--help"}, env{}.lookup, &stderr)
	require.ErrorIs(t, err, flag.ErrHelp)
	help := stderr.String()
	for _, v := range []string{"GIIA_NATS_URL or NATS_URL", "GIIA_HTTP_ADDR", "GIIA_DB", "GIIA_ENSURE_TOPOLOGY", "GIIA_NATS_USER",
		"GIIA_NATS_PASSWORD_FILE", "GIIA_NATS_CREDS", "GIIA_NATS_TLS_CERT", "GIIA_NATS_TLS_KEY", "GIIA_NATS_TLS_CA", "GIIA_LOG_FORMAT", "GIIA_LOG_LEVEL",
		"GIIA_HTTP_READ_TIMEOUT", "GIIA_HTTP_WRITE_TIMEOUT", "GIIA_HTTP_IDLE_TIMEOUT", "GIIA_HTTP_REQUEST_TIMEOUT", "GIIA_HTTP_MAX_HEADER_BYTES", "GIIA_HTTP_MAX_CONCURRENT"} {
		assert.Contains(t, help, "environment: "+v+"\n")
	}
	assert.Contains(t, help, "--nats URL")
	assert.Equal(t, 0, host.Main(context.Background(), "svc", "", []string{"-h"}, &stderr, nil))
}

// TestLogs: JSON or text at the level asked; inside a handler's context a
// record names the event.
func TestLogs(t *testing.T) {
	var out bytes.Buffer
	log, err := host.LogSettings{Format: "json", Level: "warn"}.Logger(&out)
	require.NoError(t, err)
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec))
	assert.Equal(t, "shown", rec["msg"])
	assert.Equal(t, "WARN", rec["level"])
	assert.NotContains(t, out.String(), "hidden")

	out.Reset()
	log, err = host.LogSettings{Format: "text", Level: "debug"}.Logger(&out)
	require.NoError(t, err)
	log.With("service", "svc").Debug("plain")
	assert.Contains(t, out.String(), "level=DEBUG msg=plain service=svc")
}

// TestLogsInsideAHandler: a handler logging with its context names the
// event (id, subject, correlation id).
func TestLogsInsideAHandler(t *testing.T) {
	e := st.New(t)
	var out st.SyncBuffer
	log, err := host.LogSettings{Format: "json"}.Logger(&out)
	require.NoError(t, err)
	seen := make(chan bus.Metadata, 1)
	sub, err := bus.Consume(context.Background(), e.Conn, events.Catalog, events.ServiceExecution, []bus.Route{
		bus.NewRoute(events.SubjectCatalogProductCreated, func(ctx context.Context, ev bus.Event[json.RawMessage]) error {
			log.InfoContext(ctx, "handled")
			seen <- ev.Metadata
			return nil
		}),
	}, bus.WithErrorHandler(func(error) {}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Stop(context.Background()) })
	e.PublishProduct(st.NewProduct("SKU-LOG"))
	md := <-seen
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out.String())), &rec), out.String())
	assert.Equal(t, md.ID.String(), rec["event_id"])
	assert.Equal(t, events.SubjectCatalogProductCreated, rec["subject"])
	assert.Equal(t, md.CorrelationID, rec["correlation_id"])
	assert.NotEmpty(t, md.CorrelationID)
}

// TestAuthConfig: combinations that cannot work are refused before
// connecting; a password file that cannot be read or is empty too.
func TestAuthConfig(t *testing.T) {
	base := host.Config{NATSURL: "nats://127.0.0.1:1", HTTPAddr: "127.0.0.1:0", DBPath: "x.db", HTTPAuth: st.DevAuth(t)}
	for want, auth := range map[string]host.NATSAuth{
		"not both":                     {CredsFile: "c.creds", PasswordFile: "p"},
		"needs a password":             {User: "execution"},
		"go together (--nats-tls-cert": {TLSCert: "c.pem"},
	} {
		cfg := base
		cfg.Auth = auth
		assert.ErrorContains(t, cfg.Validate("svc"), want)
	}
	cfg := base
	cfg.HTTP.ReadTimeout = -time.Second
	assert.ErrorContains(t, cfg.Validate("svc"), "--http-read-timeout")
	cfg.HTTP = host.HTTPLimits{MaxConcurrent: -1}
	assert.ErrorContains(t, cfg.Validate("svc"), "--http-max-concurrent")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	for want, file := range map[string]string{"is empty": empty, "password file": filepath.Join(dir, "missing")} {
		cfg := base
		cfg.Auth = host.NATSAuth{PasswordFile: file}
		_, err := host.Start(context.Background(), cfg, host.Spec[host.Store, struct{}]{
			Name: "svc",
			OpenStore: func(context.Context, string) (host.Store, error) {
				t.Error("the store opened before the password file was read")
				return nil, errors.New("opened")
			},
		})
		assert.ErrorContains(t, err, want)
	}
}
