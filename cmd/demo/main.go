// Command demo runs the GIIA replenishment loop in one process: an
// embedded NATS server with JetStream, the stream and consumers of the
// catalog, the execution and DDMRP services, and a scenario played through
// their HTTP APIs. It prints every event as it flows, then `name: value`
// figures, and exits 0 only if the replenishment loop closed and no event
// was lost.
//
//	go run ./cmd/demo [--data DIR] [--timeout 30s]
//
// With NATS_URL set it runs against that server instead of an embedded
// one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv("NATS_URL"), os.Stdout, os.Stderr))
}

// run plays the demo and returns the exit code: 0 when the loop closed and
// nothing was lost, 1 otherwise, 2 on bad flags.
func run(ctx context.Context, args []string, natsURL string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "keep the NATS store and the databases in `DIR` (default: a temporary folder, removed at the end)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this `duration`")
	verbose := fs.Bool("v", false, "show the services' logs")
	auth := fs.Bool("auth", false, "run the embedded server under the generated "+authConf+", each service connecting as its own user (least privilege)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *auth && natsURL != "" {
		fmt.Fprintln(stderr, "demo: --auth runs its own embedded server: unset NATS_URL")
		return 2
	}
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "giia-demo-")
		if err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	var accounts *users
	if natsURL == "" {
		var srv *server.Server
		var err error
		if *auth {
			srv, accounts, err = startAuthNATS(dir)
		} else {
			srv, err = startNATS(filepath.Join(dir, "nats"))
		}
		if err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
		defer func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		}()
		natsURL = srv.ClientURL()
		fmt.Fprintf(stdout, "embedded NATS server with JetStream at %s, store in %s\n", natsURL, filepath.Join(dir, "nats"))
		if accounts != nil {
			fmt.Fprintf(stdout, "under %s: a user per service, password files in %s, bcrypt hashes on the server\n", authConf, accounts.dir)
		}
	} else {
		fmt.Fprintf(stdout, "NATS server at %s (NATS_URL)\n", natsURL)
	}

	d := &demo{out: stdout, natsURL: natsURL, dir: dir, log: logger, start: time.Now(), users: accounts}
	res, err := d.play(ctx)
	d.report(res)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("gave up after %v: %w", *timeout, err)
		}
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	if !res.loopClosed || res.lost > 0 || res.deadLetters > 0 {
		fmt.Fprintln(stderr, "demo: the replenishment loop did not close cleanly")
		return 1
	}
	return 0
}

// startNATS starts an embedded server with JetStream on a random local port.
func startNATS(storeDir string) (*server.Server, error) {
	srv, err := server.NewServer(&server.Options{
		ServerName: "giia-demo",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   storeDir,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats server: not ready after 10s")
	}
	return srv, nil
}
