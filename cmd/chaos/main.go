// Command chaos is the fault suite of GIIA events (make chaos). Each
// scenario causes a real fault — an embedded NATS server stopped and
// restarted on the same store, a node of a three-node JetStream cluster
// killed, a service process killed with SIGKILL, poison and garbage on
// the wire — under load, then counts what was published, stored and
// applied:
//
//	go run ./cmd/chaos                       # every scenario, full size
//	go run ./cmd/chaos --scenario reconnect  # one (or a comma-separated list)
//	go run ./cmd/chaos --short               # the reduced sizes of go test
//
// Each scenario prints a block of "name: value" lines starting with
// "scenario: NAME": published, stored, applied, lost, duplicates_applied
// and drain_ms, then figures of its own, then "result: pass" or "FAIL".
// A scenario fails unless lost is 0, duplicates_applied is 0 and its own
// checks hold; the command exits 1 when one failed, 2 on bad flags.
// Everything listens on 127.0.0.1 only.
//
// The figures: published is what the publishers committed (the rows of
// the services' outboxes) or had acknowledged (the SDK's publishers);
// stored, the distinct event ids (Nats-Msg-Id) of those in the stream, as
// a plain nats.go client reads it; applied, the events that every running
// consumer the catalog gives them to has applied; lost, the events
// published but not stored, or not applied by one of their consumers;
// duplicates_applied, the applications beyond the first, counted in state
// that is not idempotent by itself (a row per application in the
// consumers the suite runs as ai-hub and analytics, each behind a
// outbox.Inbox; ddmrp's on-hand stock in consumer-crash); drain_ms, the time
// from the end of the fault and the load until everything is applied.
//
// The crash scenarios run a service as a process of its own (this
// executable again, with GIIA_CHAOS_SERVICE naming the service) and kill
// it with SIGKILL. The upgrade scenario runs its consumers and publishers
// so too, each as build v1 or v2 of an event's version raise
// (GIIA_CHAOS_BUILD, see applyBuild), and restarts them on the new build.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/services/authn"
)

func main() {
	if service, ok := os.LookupEnv(childEnv); ok {
		os.Exit(childMain(service, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// scenario is one fault and what it checks.
type scenario struct {
	name  string
	about string
	run   func(ctx context.Context, e *env, r *Result) error
}

// scenarios in the order of the issue that asked for them.
var scenarios = []scenario{
	{"outage", "broker stopped for 3s and restarted on its store, twice, while the services take HTTP load", runOutage},
	{"cluster", "3-node JetStream cluster, stream with 3 replicas: the stream leader killed under load, then a follower", runCluster},
	{"consumer-crash", "a consuming service killed (SIGKILL) mid-batch and restarted on its database", runConsumerCrash},
	{"publisher-crash", "a publishing service killed (SIGKILL) between committing and the relay's ack, then restarted", runPublisherCrash},
	{"poison", "failing and panicking handlers, garbage bytes and schema-breaking payloads go to the dead letters", runPoison},
	{"reconnect", "events from many concurrent publishers with the broker restarted twice", runReconnect},
	{"upgrade", "an event raised from version 1 to 2 under load: consumer processes restarted on the new build, then the publisher; then publisher first", runUpgrade},
}

func scenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

// env is what a scenario runs with.
type env struct {
	short bool
	root  string // where scratch directories go; "" for the system's temporary directory
	dir   string // a scratch directory of the scenario's own
	log   *slog.Logger
	self  string // this executable, started again as a service process

	issuer *authn.DevIssuer // the services' identity provider, made on first use
}

// devIssuer returns the scenario's identity provider: the HTTP authentication
// every service of the scenario is given, made on first use.
func (e *env) devIssuer() (*authn.DevIssuer, error) {
	if e.issuer == nil {
		iss, err := authn.NewDevIssuer(filepath.Join(e.dir, "jwks.json"))
		if err != nil {
			return nil, err
		}
		e.issuer = iss
	}
	return e.issuer, nil
}

// httpAuth is the HTTP authentication of the scenario's services.
func (e *env) httpAuth() (authn.Config, error) {
	iss, err := e.devIssuer()
	if err != nil {
		return authn.Config{}, err
	}
	return iss.Config(), nil
}

// newClient returns a client acting for org with every role, over conns
// connections.
func (e *env) newClient(org uuid.UUID, conns int) (*client, error) {
	iss, err := e.devIssuer()
	if err != nil {
		return nil, err
	}
	tok, err := iss.Token("chaos", org, 24*time.Hour, authn.AllRoles...)
	if err != nil {
		return nil, err
	}
	return newClient(org, conns, tok), nil
}

// size picks the full or the short figure.
func (e *env) size(full, short int) int {
	if e.short {
		return short
	}
	return full
}

// dur picks the full or the short duration.
func (e *env) dur(full, short time.Duration) time.Duration {
	if e.short {
		return short
	}
	return full
}

// run runs the selected scenarios and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	selected := fs.String("scenario", "all", "comma-separated `names` of the scenarios to run: all, "+strings.Join(scenarioNames(), ", "))
	short := fs.Bool("short", false, "run the reduced sizes of the test suite")
	verbose := fs.Bool("v", false, "log progress to stderr")
	keep := fs.Bool("keep", false, "keep the scratch directories (server stores, databases)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: chaos [--scenario NAMES] [--short] [-v] [--keep]\n\nScenarios:\n")
		for _, s := range scenarios {
			fmt.Fprintf(stderr, "  %-16s %s\n", s.name, s.about)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chaos: unexpected arguments %q\n", fs.Args())
		return 2
	}
	todo, err := pick(*selected)
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 1
	}
	level := slog.LevelWarn + 4 // quiet: services log their faults at warning and error level
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	failed := 0
	for i, s := range todo {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		res, dir, err := runOne(ctx, s, &env{short: *short, log: log.With("scenario", s.name), self: self}, *keep)
		res.Print(stdout)
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "chaos: scenario %s failed: %v\n", s.name, err)
		}
		if dir != "" {
			fmt.Fprintf(stderr, "chaos: scenario %s: servers' stores, databases and service logs kept in %s\n", s.name, dir)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "chaos: %d of %d scenarios failed\n", failed, len(todo))
		return 1
	}
	return 0
}

// pick returns the scenarios a --scenario value names.
func pick(list string) ([]scenario, error) {
	if list == "" || list == "all" {
		return scenarios, nil
	}
	var out []scenario
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown scenario %q (want all or one of %s)", name, strings.Join(scenarioNames(), ", "))
		}
		out = append(out, scenarios[i])
	}
	return out, nil
}

// scenarioTimeout bounds a whole scenario, set-up and drain included.
const scenarioTimeout = 4 * time.Minute

// runOne runs a scenario in a scratch directory and returns its result,
// the directory when it was kept (asked for, or the scenario failed), and
// why it failed, if it did.
func runOne(ctx context.Context, s scenario, e *env, keep bool) (*Result, string, error) {
	r := &Result{Scenario: s.name}
	dir, err := os.MkdirTemp(e.root, "giia-chaos-"+s.name+"-")
	if err != nil {
		r.Problemf("%v", err)
		return r, "", err
	}
	e.dir, e.issuer = dir, nil // the identity provider lives in the scenario's directory
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	start := time.Now()
	runErr := s.run(ctx, e, r)
	r.Add("duration_ms", time.Since(start))
	if runErr != nil {
		r.Problemf("%v", runErr)
	}
	err = r.Err()
	if keep || err != nil {
		return r, dir, err
	}
	_ = os.RemoveAll(dir)
	return r, "", err
}
