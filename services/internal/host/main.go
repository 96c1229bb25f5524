package host

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Running is a started service, as a main needs it.
type Running interface {
	// Done reports the HTTP server's end: its error if it failed on its own.
	Done() <-chan error
	Shutdown(ctx context.Context) error
}

// ShutdownTimeout bounds the graceful shutdown of Main.
const ShutdownTimeout = 10 * time.Second

// Main is the whole of a service's command: it parses args and the
// environment (see ParseFlags; --http defaults to defaultHTTP), starts
// the service with start, serves until ctx ends (SIGINT or SIGTERM in a
// main) or the HTTP server fails, then shuts the service down within
// ShutdownTimeout. It returns the exit code: 0 after a clean shutdown, 1
// on a failure (written to stderr), 2 on bad flags.
func Main(ctx context.Context, name, defaultHTTP string, args []string, stderr io.Writer, start func(context.Context, Flags) (Running, error)) int {
	f, err := ParseFlags(name, defaultHTTP, args, os.LookupEnv, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		// The flag package has written its own errors, with the usage.
		if strings.HasPrefix(err.Error(), name+": ") {
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
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
