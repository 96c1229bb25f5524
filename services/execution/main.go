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
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/app"
	"github.com/giia/events/services/internal/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run starts the service and serves until ctx ends (see host.Main).
func run(ctx context.Context, args []string, stderr io.Writer) int {
	return host.Main(ctx, events.ServiceExecution, "127.0.0.1:8081", args, stderr, func(ctx context.Context, f host.Flags) (host.Running, error) {
		return app.Start(ctx, f.Config())
	})
}
