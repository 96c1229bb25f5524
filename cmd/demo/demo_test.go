package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/authn"
	execapp "github.com/giia/events/services/execution/app"
)

// figures returns the `name: value` lines of the demo's output.
func figures(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range regexp.MustCompile(`(?m)^([a-z0-9_]+): (\S+)$`).FindAllStringSubmatch(out, -1) {
		m[line[1]] = line[2]
	}
	return m
}

func TestDemoClosesTheLoop(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--data", t.TempDir()}, "", &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	f := figures(t, out.String())
	for _, name := range []string{"events_published", "events_consumed", "dead_letters", "publish_p99_ms", "e2e_p99_ms", "replenishment_loop_ms", "lost"} {
		assert.Contains(t, f, name)
	}
	// The fifth sales order ships in two shipments, line by line: 30 and 25.
	assert.Equal(t, "30", f["events_published"])
	assert.Equal(t, "25", f["events_consumed"])
	assert.Equal(t, "0", f["dead_letters"])
	assert.Equal(t, "0", f["lost"])
	assert.Equal(t, "true", f["loop_closed"])
	loop, err := strconv.ParseFloat(f["replenishment_loop_ms"], 64)
	require.NoError(t, err)
	assert.Positive(t, loop)
	t.Logf("replenishment_loop_ms: %v", loop)
	for _, s := range []string{"green -> YELLOW", "yellow -> RED", "red -> GREEN", "draft replenishment", "warning: net flow 580 <= 700, order 1000 EA"} {
		assert.Contains(t, out.String(), s)
	}
	// One order with two lines due on different days, a week apart.
	assert.Regexp(t, `SO-2026-000005: 70 EA BRG-6204-2RS due \S+, 70 EA BRG-6204-2RS due \S+`, out.String())
	assert.Equal(t, 1, strings.Count(out.String(), "yellow -> RED"), "the position falls into red once")
}

// With NATS_URL the demo uses that server and starts none.
func TestDemoOnAnExternalServer(t *testing.T) {
	srv := bustest.RunServer(t)
	if srv.External() {
		t.Skip("the demo's durable consumers need a server of their own")
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), nil, srv.URL(), &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "(NATS_URL)")
	assert.Equal(t, "0", figures(t, out.String())["lost"])

	// A second run on the same server sees only its own events.
	out.Reset()
	code = run(context.Background(), nil, srv.URL(), &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	assert.Equal(t, "30", figures(t, out.String())["events_published"])
}

func TestDemoGivesUp(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--timeout", "1ms"}, "", &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "gave up after 1ms")
	assert.Contains(t, out.String(), "lost:", "the figures are printed even on failure")
}

func TestDemoFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"--nope"}, "", &out, &errOut))
	assert.Equal(t, 2, run(context.Background(), []string{"extra"}, "", &out, &errOut))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.Equal(t, 1, run(ctx, []string{"--timeout", "2s"}, "nats://127.0.0.1:1", &out, &errOut), "no server there")
}

// TestDemoUnderAuth runs the whole demo on a server under the generated
// nats-auth.conf, each service as its own user: the loop closes, the
// server refuses execution's user a ddmrp subject, and no password shows
// in the output or the logs.
func TestDemoUnderAuth(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--data", dir, "--auth", "-v"}, "", &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	f := figures(t, out.String())
	assert.Equal(t, "true", f["loop_closed"])
	assert.Equal(t, "true", f["permission_refused"])
	assert.Equal(t, "0", f["lost"])
	assert.Contains(t, out.String(), `Permissions Violation for Publish to "ddmrp.buffer.status_changed"`)
	files, err := filepath.Glob(filepath.Join(dir, "secrets", "*.password"))
	require.NoError(t, err)
	require.Len(t, files, 1+len(events.Catalog.Services))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		password := strings.TrimSpace(string(raw))
		require.NotEmpty(t, password)
		assert.NotContains(t, out.String()+errOut.String(), password, "a password in the output")
		info, err := os.Stat(file)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}
	conf, err := os.ReadFile(filepath.Join(dir, "nats-auth.conf"))
	require.NoError(t, err)
	assert.NotContains(t, string(conf), "password: \"", "the server's configuration holds no password")
}

// TestServiceUnderItsOwnUser: a service that tries to provision the
// topology as its own user is refused at start-up, the error naming the
// permission, the user and the auth config; a wrong password is refused
// as an authorization failure.
func TestServiceUnderItsOwnUser(t *testing.T) {
	dir := t.TempDir()
	srv, accounts, err := startAuthNATS(dir)
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	for _, v := range []string{"ADMIN_PASSWORD", "EXECUTION_PASSWORD"} {
		_, set := os.LookupEnv(v)
		assert.False(t, set, "%s left in the environment", v)
	}
	cfg := execapp.Config{NATSURL: srv.ClientURL(), HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(dir, "e.db"),
		EnsureTopology: true, Auth: accounts.serviceAuth(events.ServiceExecution), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		HTTPAuth: authn.Config{Issuer: "https://issuer.invalid", Audience: "giia", JWKS: jwks(t, dir)}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	_, err = execapp.Start(ctx, cfg)
	require.ErrorIs(t, err, bus.ErrPermissionDenied)
	assert.Less(t, time.Since(start), 5*time.Second, "refused at once, not after a timeout")
	assert.ErrorContains(t, err, `as the NATS user "execution"`)
	assert.ErrorContains(t, err, "nats-auth.conf")
	assert.ErrorContains(t, err, "$JS.API.STREAM")

	wrong := filepath.Join(dir, "wrong.password")
	require.NoError(t, os.WriteFile(wrong, []byte("not-it\n"), 0o600))
	cfg.EnsureTopology, cfg.Auth = false, execapp.NATSAuth{PasswordFile: wrong}
	_, err = execapp.Start(ctx, cfg)
	assert.ErrorContains(t, err, "Authorization Violation")
}

// jwks writes the public keys of a fresh issuer in dir.
func jwks(t *testing.T, dir string) string {
	t.Helper()
	iss, err := authn.NewDevIssuer(filepath.Join(dir, "jwks.json"))
	require.NoError(t, err)
	return iss.Config().JWKS
}
