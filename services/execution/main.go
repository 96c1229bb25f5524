// Command execution runs the execution service: purchase orders, sales
// orders and inventory over HTTP, publishing their events on NATS
// JetStream and consuming the catalog's products and DDMRP's alerts.
//
//	go run ./services/execution --nats nats://127.0.0.1:4222 --http 127.0.0.1:8081 --db execution.db
//
// At start-up it creates or updates the stream and consumers the catalog
// declares (--ensure-topology=false leaves them to the platform).
// SIGINT or SIGTERM shuts it down gracefully.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/giia/events/services/execution/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run starts the service and serves until ctx ends; it returns the exit
// code: 0 after a clean shutdown, 1 on failure, 2 on bad flags.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("execution", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	fs.StringVar(&cfg.NATSURL, "nats", "nats://127.0.0.1:4222", "NATS server `URL`")
	fs.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8081", "HTTP listen `address`")
	fs.StringVar(&cfg.DBPath, "db", "execution.db", "SQLite database `file`")
	fs.BoolVar(&cfg.EnsureTopology, "ensure-topology", true, "create or update the stream and consumers of the catalog at start-up")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	svc, err := app.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "execution:", err)
		return 1
	}
	code := 0
	select {
	case <-ctx.Done():
	case err := <-svc.Done():
		fmt.Fprintln(stderr, "execution: http server:", err)
		code = 1
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Shutdown(shutdown); err != nil {
		fmt.Fprintln(stderr, "execution: shutdown:", err)
		code = 1
	}
	cfg.Logger.Info("execution service stopped")
	return code
}
