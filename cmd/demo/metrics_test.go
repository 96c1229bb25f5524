package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample is one line of a Prometheus text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape reads url's /metrics.
func scrape(t *testing.T, ctx context.Context, url string) []sample {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out []sample
	for _, line := range strings.Split(string(body), "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		require.NoError(t, err, line)
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, kv := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[kv[1]] = kv[2]
		}
		out = append(out, s)
	}
	return out
}

// total sums the samples named name whose labels include want (pairs).
func total(samples []sample, name string, want ...string) (sum float64, found bool) {
	for _, s := range samples {
		if s.name != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			ok = ok && s.labels[want[i]] == want[i+1]
		}
		if ok {
			sum += s.value
			found = true
		}
	}
	return sum, found
}

func TestDemoMetrics(t *testing.T) {
	srv, err := startNATS(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var out bytes.Buffer
	d := &demo{out: &out, natsURL: srv.ClientURL(), dir: t.TempDir(), log: slog.New(slog.NewTextHandler(io.Discard, nil)), start: time.Now()}
	var exec, ddmrp []sample
	perSubject := map[string]int{}
	d.settled = func(ctx context.Context, d *demo) {
		exec, ddmrp = scrape(t, ctx, d.exec.URL()), scrape(t, ctx, d.ddmrp.URL())
		for _, ev := range d.obs.snapshot() {
			perSubject[ev.Subject]++
		}
	}
	res, err := d.play(ctx)
	require.NoError(t, err, out.String())
	require.NotEmpty(t, exec, "the hook ran")
	require.NotEmpty(t, perSubject)
	t.Logf("published %d, consumed %d", res.published, res.consumed)

	for subject, n := range perSubject {
		svc, own, other := "", exec, ddmrp
		switch {
		case strings.HasPrefix(subject, "execution."):
			svc = "execution"
		case strings.HasPrefix(subject, "ddmrp."):
			svc, own, other = "ddmrp", ddmrp, exec
		default:
			continue // the demo's own catalog events
		}
		sent, _ := total(own, "messaging_client_sent_messages_total", "messaging_destination_name", subject)
		assert.Equal(t, float64(n), sent, "%s sent %s", svc, subject)
		count, _ := total(own, "messaging_client_operation_duration_seconds_count", "messaging_destination_name", subject)
		assert.Equal(t, float64(n), count, "%s publish durations of %s", svc, subject)
		_, found := total(other, "messaging_client_sent_messages_total", "messaging_destination_name", subject)
		assert.False(t, found, "%s is not in the other service's /metrics", subject)
	}
	var consumed, processed float64
	for _, svc := range [][]sample{exec, ddmrp} {
		c, _ := total(svc, "messaging_client_consumed_messages_total")
		p, _ := total(svc, "messaging_process_duration_seconds_count")
		consumed, processed = consumed+c, processed+p
		for name, want := range map[string]float64{
			"giia_outbox_pending":            0,
			"giia_outbox_oldest_age_seconds": 0,
			"giia_consumer_pending":          0,
			"giia_consumer_ack_pending":      0,
		} {
			got, found := total(svc, name)
			assert.True(t, found, name)
			assert.Equal(t, want, got, name)
		}
		dead, _ := total(svc, "giia_messaging_dead_letters_total")
		assert.Zero(t, dead)
		redelivered, _ := total(svc, "giia_messaging_redeliveries_total")
		assert.Zero(t, redelivered)
	}
	assert.Equal(t, float64(res.consumed), consumed, "consumed messages")
	assert.Equal(t, float64(res.consumed), processed, "handler calls")
	assert.Equal(t, 25, res.consumed)
	own, _ := total(exec, "messaging_client_consumed_messages_total", "messaging_consumer_group_name", "ddmrp-service")
	assert.Zero(t, own, "the execution service's /metrics shows its own consumer only")
}

// seriesOf returns the metric names a PromQL expression selects: what
// remains once the grouping clauses, label matchers, ranges, numbers and
// function names are taken out.
func seriesOf(expr string) []string {
	for _, re := range []string{`by \([^)]*\)`, `\{[^}]*\}`, `\[[^\]]*\]`, `\b[0-9.]+\b`} {
		expr = regexp.MustCompile(re).ReplaceAllString(expr, " ")
	}
	funcs := map[string]bool{"sum": true, "max": true, "min": true, "avg": true, "rate": true, "increase": true, "histogram_quantile": true}
	var out []string
	for _, id := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`).FindAllString(expr, -1) {
		if !funcs[id] {
			out = append(out, id)
		}
	}
	return out
}

// The dashboard's queries name only series the services export: those a
// scrape after the demo shows, and the counters that appear at their
// first increment (dead letters, redeliveries, inbox duplicates), which
// the clean scenario never makes, by their exported names.
func TestDashboardNamesExportedSeries(t *testing.T) {
	srv, err := startNATS(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	d := &demo{out: &out, natsURL: srv.ClientURL(), dir: t.TempDir(), log: slog.New(slog.NewTextHandler(io.Discard, nil)), start: time.Now()}
	exported := map[string]bool{
		"giia_messaging_dead_letters_total": true,
		"giia_messaging_redeliveries_total": true,
		"giia_inbox_duplicates_total":       true,
	}
	d.settled = func(ctx context.Context, d *demo) {
		for _, s := range append(scrape(t, ctx, d.exec.URL()), scrape(t, ctx, d.ddmrp.URL())...) {
			exported[s.name] = true
		}
	}
	_, err = d.play(ctx)
	require.NoError(t, err, out.String())

	raw, err := os.ReadFile("../../deploy/grafana/giia-events.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	require.GreaterOrEqual(t, len(dash.Panels), 10)
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			names := seriesOf(tg.Expr)
			assert.NotEmpty(t, names, "%s: %s", p.Title, tg.Expr)
			for _, n := range names {
				assert.True(t, exported[n], "%s: %s is not exported", p.Title, n)
			}
		}
	}
	assert.Equal(t, []string{"giia_consumer_pending", "giia_consumer_ack_pending"},
		seriesOf(`sum by (messaging_consumer_group_name) (giia_consumer_pending) + sum by (a) (giia_consumer_ack_pending{x="y"}[5m])`))
}
