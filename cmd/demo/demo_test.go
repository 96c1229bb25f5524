package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus/bustest"
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
