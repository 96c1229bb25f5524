package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickRun is the smoke test of `make bench`: a --quick run prints
// every figure with a number (outbox_drain_per_s once the outbox relay
// publishes in batches).
func TestQuickRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	code := run(ctx, []string{"--quick"}, &out, &errs)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errs.String(), out.String())
	t.Logf("\n%s", out.String())

	figures := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		name, value, ok := strings.Cut(line, ": ")
		require.True(t, ok, "not a name: value line: %q", line)
		assert.NotContains(t, figures, name, "printed twice")
		figures[name] = value
	}
	for _, name := range []string{
		"raw_sync_per_s", "sdk_sync_per_s", "sync_ratio",
		"raw_async_per_s", "sdk_async_per_s", "async_ratio",
		"validate_native_ns", "validate_jsonschema_ns", "validate_speedup",
		"e2e_p50_us", "e2e_p99_us", "order_op_p99_ms",
		"allocs_per_publish", "raw_allocs_per_publish",
		"consume_events", "raw_consume_per_s", "sdk_consume_per_s", "consume_ratio",
		"raw_consume_cpu_us", "sdk_consume_cpu_us", "raw_allocs_per_consume", "sdk_allocs_per_consume",
		"inbox_consume_per_s", "inbox_consume_cpu_us", "inbox_allocs_per_consume",
		"catch_up_events", "catch_up_s", "catch_up_per_s", "catch_up_cpu_us", "catch_up_allocs",
	} {
		v, err := strconv.ParseFloat(figures[name], 64)
		if assert.NoError(t, err, "%s: %q", name, figures[name]) {
			assert.Greater(t, v, 0.0, name)
		}
	}
	gap, err := strconv.ParseFloat(figures["catch_up_longest_gap_ms"], 64)
	if assert.NoError(t, err, "catch_up_longest_gap_ms: %q", figures["catch_up_longest_gap_ms"]) {
		assert.GreaterOrEqual(t, gap, 0.0)
	}
	for _, name := range []string{"machine", "load_average", "go", "nats_server", "payload", "rounds", "load_average_end", "targets_missed"} {
		assert.NotEmpty(t, figures[name], name)
	}
	assert.Contains(t, figures["load_average_end"], "at end")
	assert.Contains(t, figures["load_average"], "at start")
	assert.Contains(t, figures["instructions"], "skipped", "--quick leaves them to --only instructions")
	assert.Contains(t, figures["payload"], "execution.purchase_order.created")
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"--rounds", "4"}, {"extra"}, {"--only", "sync,nope"}} {
		var out, errs bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), args, &out, &errs), "%q", args)
		assert.Empty(t, out.String())
		assert.NotEmpty(t, errs.String())
	}
	var out, errs bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"--root", t.TempDir()}, &out, &errs))
	assert.Contains(t, errs.String(), "no catalog")
}

func TestMedianAndPercentile(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond
	}
	assert.Equal(t, 50*time.Millisecond, percentile(ds, 50))
	assert.Equal(t, 99*time.Millisecond, percentile(ds, 99))
	assert.Equal(t, 100*time.Millisecond, percentile(ds, 100))
	assert.Equal(t, time.Duration(0), percentile(nil, 99))
}

func TestMissed(t *testing.T) {
	b := &bench{}
	b.out = &bytes.Buffer{}
	for name, v := range map[string]string{
		"sync_ratio": "0.95", "async_ratio": "0.5", "validate_speedup": "25", "validate_native_ns": "900",
		"e2e_p99_us": "400", "order_op_p99_ms": "x",
		"raw_sync_cpu_us": "50.0", "sdk_sync_cpu_us": "53.5",
		"raw_allocs_per_publish": "40.0", "allocs_per_publish": "42.0",
	} {
		b.print(name, v)
	}
	assert.Equal(t, "async_ratio (0.5, want >= 0.92), sdk_sync_cpu_us (53.5, want <= raw_sync_cpu_us + 3 = 53), "+
		"validate_speedup (25, want >= 60), order_op_p99_ms (x, want <= 5), outbox_drain_per_s (not measured), "+
		"consume_ratio (not measured), inbox_consume_per_s (not measured), catch_up_s (not measured)", b.missed())

	b = &bench{out: &bytes.Buffer{}}
	for _, name := range []string{"sync_ratio", "async_ratio", "validate_speedup", "outbox_drain_per_s", "consume_ratio", "inbox_consume_per_s"} {
		b.print(name, "1e9")
	}
	for _, name := range []string{"e2e_p99_us", "order_op_p99_ms", "validate_native_ns", "raw_sync_cpu_us", "sdk_sync_cpu_us", "raw_allocs_per_publish"} {
		b.print(name, "1")
	}
	b.print("allocs_per_publish", "3")
	b.print("catch_up_s", "10")
	assert.Equal(t, "none", b.missed())

	// catch_up_s is held to 10 s per 100,000 events.
	b.print("catch_up_events", "2000")
	assert.Equal(t, "catch_up_s (10, want <= 0.2 for 2000 events)", b.missed())
	b = &bench{out: &bytes.Buffer{}}
	b.print("catch_up_events", "2000")
	b.print("catch_up_s", "0.15")
	assert.Contains(t, b.missed(), "consume_ratio (not measured)")
	assert.NotContains(t, b.missed(), "catch_up_s")

	// A figure held to a raw one is not measured without it.
	b = &bench{out: &bytes.Buffer{}}
	b.print("allocs_per_publish", "3")
	b.print("validate_native_ns", "1001")
	assert.Contains(t, b.missed(), "allocs_per_publish (3, want <= raw_allocs_per_publish + 2, not measured)")
	assert.Contains(t, b.missed(), "validate_native_ns (1001, want <= 1000)")
	assert.Contains(t, b.missed(), "sdk_sync_cpu_us (not measured)")
}

// TestInstructions counts instructions per event in quick mode where
// valgrind runs, and says they are unavailable where it is missing. The
// count runs the bench's own binary, built without the race detector as
// `make bench` builds it: under valgrind a race-instrumented worker would
// be counted, and take minutes.
func TestInstructions(t *testing.T) {
	parse := func(t *testing.T, out string) map[string]string {
		t.Logf("\n%s", out)
		fs := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			name, value, _ := strings.Cut(line, ": ")
			fs[name] = value
		}
		return fs
	}
	t.Run("valgrind", func(t *testing.T) {
		if _, err := exec.LookPath("valgrind"); err != nil {
			t.Skip("valgrind is not installed") // the other subtest covers this machine
		}
		bin := filepath.Join(t.TempDir(), "bench")
		build := exec.Command("go", "build", "-o", bin, ".")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "go build: %s", out)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--quick", "--only", "instructions")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "stderr: %s\nstdout: %s", stderr.String(), stdout.String())
		fs := parse(t, stdout.String())
		for _, name := range []string{
			"raw_publish_instructions", "sdk_publish_instructions", "publish_instructions_ratio",
			"raw_consume_instructions", "sdk_consume_instructions", "consume_instructions_ratio",
		} {
			v, err := strconv.ParseFloat(fs[name], 64)
			if assert.NoError(t, err, "%s: %q", name, fs[name]) {
				assert.Greater(t, v, 0.0, name)
			}
		}
		// Instructions per event of a client, not of its start-up: some
		// thousands, not millions.
		for _, name := range []string{"raw_publish_instructions", "sdk_publish_instructions"} {
			v, _ := strconv.ParseFloat(fs[name], 64)
			assert.Less(t, v, 1e6, name)
		}
		assert.NotContains(t, fs, "instructions")
	})
	t.Run("no valgrind", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var out, errs bytes.Buffer
		code := run(ctx, []string{"--quick", "--only", "instructions"}, &out, &errs)
		require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errs.String(), out.String())
		fs := parse(t, out.String())
		assert.True(t, strings.HasPrefix(fs["instructions"], "unavailable (valgrind not found"), fs["instructions"])
		assert.NotContains(t, fs, "raw_publish_instructions")
		assert.Contains(t, fs, "load_average_end")
	})
}
