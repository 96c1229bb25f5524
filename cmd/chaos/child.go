package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/authn"
	ddmrpapp "github.com/giia/events/services/ddmrp/app"
	execapp "github.com/giia/events/services/execution/app"
)

// childEnv, when set, makes this executable (or the test binary, see
// TestMain) run one service instead of the suite: the crash scenarios
// start a service as a process of its own, so that they can kill it with
// SIGKILL, a real crash: no deferred function, no drain, no ack, the TCP
// connection to NATS reset by the kernel, the SQLite transaction in
// progress abandoned mid-write.
const childEnv = "GIIA_CHAOS_SERVICE"

// readyPrefix starts the line a service process prints on stdout once it
// serves: "ready http://127.0.0.1:PORT".
const readyPrefix = "ready "

// childMain runs service ("execution" or "ddmrp", or for the upgrade
// scenario "analytics", the suite's ledger, and "execution-v1", the
// publisher of the execution service's old build) until SIGTERM or
// SIGINT, or until stdin, when not nil, ends (the suite that started it is
// gone), then shuts it down gracefully. With buildEnv set it runs as that
// build (see applyBuild).
func childMain(service string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(service, flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsURL := fs.String("nats", "", "NATS server `URL`")
	dbPath := fs.String("db", "", "SQLite database `file`")
	httpAddr := fs.String("http", "127.0.0.1:0", "HTTP listen `address`")
	wait := fs.Duration("ack-wait", ackWait, "the consumer's ack wait")
	rate := fs.Int("rate", 100, "events a second ("+oldExecution+" only)")
	var auth authn.Config
	fs.StringVar(&auth.Issuer, "auth-issuer", "", "the API's token issuer")
	fs.StringVar(&auth.Audience, "auth-audience", "", "the API's token audience")
	fs.StringVar(&auth.JWKS, "auth-jwks", "", "the issuer's JWKS file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := applyBuild(events.Catalog, os.Getenv(buildEnv)); err != nil {
		fmt.Fprintln(stderr, "chaos child:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	consumer := []bus.ConsumerOption{bus.WithAckWait(*wait)}
	var url string
	var done <-chan error
	var shutdown func(context.Context) error
	switch service {
	case "execution":
		svc, err := execapp.Start(ctx, execapp.Config{NATSURL: *natsURL, HTTPAddr: *httpAddr, DBPath: *dbPath, Logger: log, ConsumerOptions: consumer, HTTPAuth: auth})
		if err != nil {
			fmt.Fprintln(stderr, "chaos child:", err)
			return 1
		}
		url, done, shutdown = svc.URL(), svc.Done(), svc.Shutdown
	case "ddmrp":
		svc, err := ddmrpapp.Start(ctx, ddmrpapp.Config{NATSURL: *natsURL, HTTPAddr: *httpAddr, DBPath: *dbPath, Logger: log, ConsumerOptions: consumer, HTTPAuth: auth})
		if err != nil {
			fmt.Fprintln(stderr, "chaos child:", err)
			return 1
		}
		url, done, shutdown = svc.URL(), svc.Done(), svc.Shutdown
	case events.ServiceAnalytics:
		c, err := startLedgerConsumer(ctx, *natsURL, *dbPath, log)
		if err != nil {
			fmt.Fprintln(stderr, "chaos child:", err)
			return 1
		}
		url, shutdown = "-", c.Shutdown // done stays nil: it has no server
	case oldExecution:
		p, err := startOldPublisher(*natsURL, *dbPath, *rate)
		if err != nil {
			fmt.Fprintln(stderr, "chaos child:", err)
			return 1
		}
		url, done, shutdown = "-", p.failed, p.Shutdown
	default:
		fmt.Fprintf(stderr, "chaos child: unknown service %q (want execution, ddmrp, analytics or %s)\n", service, oldExecution)
		return 2
	}
	fmt.Fprintln(stdout, readyPrefix+url)
	if stdin != nil {
		go func() {
			_, _ = io.Copy(io.Discard, stdin)
			stop()
		}()
	}
	code := 0
	select {
	case <-ctx.Done():
	case err := <-done:
		fmt.Fprintln(stderr, "chaos child:", err)
		code = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, "chaos child: shutdown:", err)
		code = 1
	}
	return code
}

// child is a service running as a process of its own.
type child struct {
	service string
	cmd     *exec.Cmd
	stdin   io.WriteCloser // open while the suite runs
	url     string
	log     string // its stderr
	exited  chan struct{}
	err     error // Wait's, once exited is closed
}

// childOption changes the command that starts a service process.
type childOption func(*exec.Cmd)

// asBuild starts the process as the named build (buildEnv, applyBuild).
func asBuild(build string) childOption {
	return func(cmd *exec.Cmd) { cmd.Env = append(cmd.Env, buildEnv+"="+build) }
}

// withArgs adds command-line flags.
func withArgs(args ...string) childOption {
	return func(cmd *exec.Cmd) { cmd.Args = append(cmd.Args, args...) }
}

// startChild starts service on natsURL with its database at dbPath and
// waits until it serves. Its stderr goes to a log file in the scenario's
// directory, named after the service and n.
func startChild(ctx context.Context, e *env, service, natsURL, dbPath string, n int, opts ...childOption) (*child, error) {
	logPath := filepath.Join(e.dir, fmt.Sprintf("%s-%d.log", service, n))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the process holds its own descriptor
	auth, err := e.httpAuth()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.self, "--nats", natsURL, "--db", dbPath, "--auth-issuer", auth.Issuer, "--auth-audience", auth.Audience, "--auth-jwks", auth.JWKS)
	cmd.Env = append(os.Environ(), childEnv+"="+service)
	for _, opt := range opts {
		opt(cmd)
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// Kept open while this process lives: the service stops when it ends.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s process: %w", service, err)
	}
	c := &child{service: service, cmd: cmd, stdin: stdin, log: logPath, exited: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, readyPrefix) {
				ready <- strings.TrimPrefix(line, readyPrefix)
			}
		}
		_, _ = io.Copy(io.Discard, out)
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case c.url = <-ready:
		e.log.Info("service process started", "service", service, "pid", cmd.Process.Pid, "url", c.url)
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s process exited before serving (%v); see %s", service, c.err, logPath)
	case <-t.C:
	case <-ctx.Done():
	}
	c.Kill()
	return nil, fmt.Errorf("%s process did not serve in time; see %s", service, logPath)
}

// Kill kills the process with SIGKILL and waits until it is gone.
func (c *child) Kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// Stop asks the process to shut down gracefully (SIGTERM) and waits for
// it, killing it after 15s.
func (c *child) Stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-c.exited:
	case <-t.C:
		c.Kill()
		return fmt.Errorf("%s process ignored SIGTERM; killed", c.service)
	}
	var exitErr *exec.ExitError
	if errors.As(c.err, &exitErr) {
		return fmt.Errorf("%s process: %w; see %s", c.service, c.err, c.log)
	}
	return c.err
}
