package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/events"
)

// TestMain lets the crash scenarios start this test binary as a service
// process, as they start the chaos command itself.
func TestMain(m *testing.M) {
	if service, ok := os.LookupEnv(childEnv); ok {
		os.Exit(childMain(service, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestScenarios runs every scenario of make chaos in its reduced size:
// real faults (broker restarts, a cluster node killed, service processes
// killed with SIGKILL, poison on the wire), fewer events, shorter
// outages.
func TestScenarios(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn + 4}))
			e := &env{short: true, root: t.TempDir(), log: log, self: self}
			res, dir, err := runOne(t.Context(), s, e, false)
			if dir != "" {
				t.Logf("scratch directory (removed with the test's temporary directory): %s", dir)
			}
			var out bytes.Buffer
			res.Print(&out)
			t.Log("\n" + out.String())
			require.NoError(t, err)
			assert.Zero(t, res.Lost, "lost")
			assert.Zero(t, res.DuplicatesApplied, "duplicates applied")
			assert.Positive(t, res.Published, "published")
			for _, name := range append([]string{"scenario", "published", "stored", "applied", "lost", "duplicates_applied", "drain_ms", "result"}, ownFigures[s.name]...) {
				assert.Contains(t, "\n"+out.String(), "\n"+name+": ", "figure %s printed", name)
			}
			if s.name == "upgrade" {
				for _, o := range rolloutOrders {
					for _, zero := range []string{"dead_letters", "lost", "duplicates_applied"} {
						assert.Contains(t, out.String(), "\n"+o.name+"_"+zero+": 0\n")
					}
				}
			}
		})
	}
}

// ownFigures are figures a scenario prints besides those of every
// scenario.
var ownFigures = map[string][]string{
	"upgrade": {"applied_v1", "applied_v2", "dead_letters", "longest_wait_ms",
		"consumers_first_applied_v2", "publisher_first_applied_v2", "publisher_first_waited", "publisher_first_longest_wait_ms"},
}

// TestApplyBuild: build v1 knows version 1 of the sales order only, so
// that a version 2 event waits for an upgrade; build v2 is the catalog
// as generated.
func TestApplyBuild(t *testing.T) {
	cat := *events.Catalog
	cat.Events = slices.Clone(events.Catalog.Events)
	require.NoError(t, applyBuild(&cat, "v2"))
	ev, ok := cat.Event(upgradeSubject)
	require.True(t, ok)
	assert.Equal(t, []int{1, 2}, ev.Versions())

	require.NoError(t, applyBuild(&cat, "v1"))
	ev, _ = cat.Event(upgradeSubject)
	assert.Equal(t, []int{1}, ev.Versions())
	_, known := ev.Validator(2)
	assert.False(t, known, "version 2 unknown to build v1")
	v1 := salesOrderV1(uuid.New(), uuid.New(), 7)
	data, err := v1.AppendJSON(nil)
	require.NoError(t, err)
	require.NoError(t, ev.ValidateJSON(data), "build v1 checks version 1 payloads")
	orig, _ := events.Catalog.Event(upgradeSubject)
	assert.Equal(t, []int{1, 2}, orig.Versions(), "the process's catalog untouched")

	assert.ErrorContains(t, applyBuild(&cat, "v1"), "want 1 and 2", "applied twice")
	assert.ErrorContains(t, applyBuild(&cat, "v3"), `unknown build "v3"`)
}

func TestResultPrintAndErr(t *testing.T) {
	r := &Result{Scenario: "x", Published: 3, Stored: 3, Applied: 3, Drain: 1500 * time.Millisecond}
	r.Add("restarts", 2)
	r.Add("rate", 12.345)
	r.Add("outage_ms", 3*time.Second)
	r.Add("restarts", 3) // replaces
	require.NoError(t, r.Err())
	var out bytes.Buffer
	r.Print(&out)
	assert.Equal(t, "scenario: x\npublished: 3\nstored: 3\napplied: 3\nlost: 0\nduplicates_applied: 0\ndrain_ms: 1500\n"+
		"restarts: 3\nrate: 12.3\noutage_ms: 3000\nresult: pass\n", out.String())

	r.Lost, r.DuplicatesApplied = 1, 2
	r.Check(true, "fine")
	r.Check(false, "%d things wrong", 4)
	err := r.Err()
	require.Error(t, err)
	for _, want := range []string{"1 events lost", "2 events applied twice", "4 things wrong"} {
		assert.ErrorContains(t, err, want)
	}
	out.Reset()
	r.Print(&out)
	assert.Contains(t, out.String(), "result: FAIL\nproblem: 4 things wrong\n")
}

func TestPick(t *testing.T) {
	all, err := pick("all")
	require.NoError(t, err)
	assert.Len(t, all, 7)
	two, err := pick("poison, reconnect")
	require.NoError(t, err)
	assert.Equal(t, []string{"poison", "reconnect"}, []string{two[0].name, two[1].name})
	_, err = pick("poison,nope")
	assert.ErrorContains(t, err, `unknown scenario "nope"`)
}

func TestRunUsage(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{{"--scenario", "nope"}, {"--bogus"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(ctx, args, &stdout, &stderr), "args %q", args)
		assert.Empty(t, stdout.String())
		assert.NotEmpty(t, stderr.String())
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run(ctx, []string{"-h"}, &stdout, &stderr))
	for _, s := range scenarios {
		assert.Contains(t, stderr.String(), s.name)
	}
}

func TestRunOneScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"--short", "--scenario", "poison"}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	assert.True(t, strings.HasPrefix(stdout.String(), "scenario: poison\npublished: "), stdout.String())
	assert.Contains(t, stdout.String(), "\nresult: pass\n")
}

func TestTallies(t *testing.T) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	tl := tallyApplications(map[uuid.UUID]bool{a: true, b: true}, map[uuid.UUID]int{a: 2, c: 1})
	assert.Equal(t, tally{applied: 1, lost: 1, duplicates: 1, unexpected: 1}, tl)

	rows := []outboxRow{
		{ID: a, Subject: events.SubjectExecutionInventoryUpdated},  // ddmrp and ai-hub
		{ID: b, Subject: events.SubjectExecutionSalesOrderCreated}, // ddmrp and analytics
		{ID: c, Subject: events.SubjectExecutionInventoryUpdated},  // never stored
	}
	rt := tallyRows(rows, map[uuid.UUID]int{a: 1, b: 2}, consumerApps{
		events.ServiceDDMRP: {a: 1, b: 1},
		events.ServiceAIHub: {a: 3},
	})
	assert.Equal(t, 2, rt.stored)
	assert.Equal(t, 1, rt.storedTwice)
	assert.Equal(t, 2, rt.applied) // analytics does not run: b needs ddmrp only
	assert.Equal(t, 1, rt.lost)
	assert.Equal(t, 2, rt.dups)
	assert.Equal(t, map[string]int{events.ServiceDDMRP: 1, events.ServiceAIHub: 1}, rt.missing)

	p := position{uuid.New(), uuid.New()}
	q := position{uuid.New(), uuid.New()}
	assert.Equal(t, 1, compareOnHand(map[position]float64{p: 3, q: 1}, map[position]float64{p: 3}))
}

func TestChildUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, childMain("nope", nil, nil, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `unknown service "nope"`)
	assert.Equal(t, 2, childMain("ddmrp", []string{"--bogus"}, nil, &stdout, &stderr))
	assert.Equal(t, 1, childMain("ddmrp", nil, nil, &stdout, &stderr), "no NATS URL")
}
