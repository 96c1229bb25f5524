package host

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Flags are the command-line settings of every service.
type Flags struct {
	NATSURL        string
	HTTPAddr       string
	DBPath         string
	EnsureTopology bool
	Logger         *slog.Logger // writes to the command's standard error
}

// Config returns the configuration of the flags.
func (f Flags) Config() Config {
	return Config{NATSURL: f.NATSURL, HTTPAddr: f.HTTPAddr, DBPath: f.DBPath, EnsureTopology: f.EnsureTopology, Logger: f.Logger}
}

// Running is a started service, as a main needs it.
type Running interface {
	// Done reports the HTTP server's end: its error if it failed on its own.
	Done() <-chan error
	Shutdown(ctx context.Context) error
}

// ShutdownTimeout bounds the graceful shutdown of Main.
const ShutdownTimeout = 10 * time.Second

// Main is the whole of a service's command: it parses args (--nats,
// --http with defaultHTTP, --db with NAME.db, --ensure-topology), starts
// the service with start, serves until ctx ends (SIGINT or SIGTERM in a
// main) or the HTTP server fails, then shuts the service down within
// ShutdownTimeout. It returns the exit code: 0 after a clean shutdown, 1
// on a failure (written to stderr), 2 on bad flags.
func Main(ctx context.Context, name, defaultHTTP string, args []string, stderr io.Writer, start func(context.Context, Flags) (Running, error)) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f Flags
	fs.StringVar(&f.NATSURL, "nats", "nats://127.0.0.1:4222", "NATS server `URL`")
	fs.StringVar(&f.HTTPAddr, "http", defaultHTTP, "HTTP listen `address`")
	fs.StringVar(&f.DBPath, "db", name+".db", "SQLite database `file`")
	fs.BoolVar(&f.EnsureTopology, "ensure-topology", true, "create or update the stream and consumers of the catalog at start-up")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		return 2
	}
	f.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	svc, err := start(ctx, f)
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, name+": ") { // Start's errors name the service already
			msg = name + ": " + msg
		}
		fmt.Fprintln(stderr, msg)
		return 1
	}
	code := 0
	select {
	case <-ctx.Done():
	case err := <-svc.Done():
		fmt.Fprintf(stderr, "%s: http server: %v\n", name, err)
		code = 1
	}
	shutdown, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := svc.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "%s: shutdown: %v\n", name, err)
		code = 1
	}
	f.Logger.Info(name + " service stopped")
	return code
}
