// Command ddmrp runs the DDMRP service: buffer profiles over HTTP, net
// flow positions kept from the execution service's events, and zone
// changes and replenishment alerts published on NATS JetStream.
//
//	go run ./services/ddmrp --nats nats://127.0.0.1:4222 --http 127.0.0.1:8082 --db ddmrp.db
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
	"github.com/giia/events/services/ddmrp/app"
	"github.com/giia/events/services/internal/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run starts the service and serves until ctx ends (see host.Main).
func run(ctx context.Context, args []string, stderr io.Writer) int {
	return host.Main(ctx, events.ServiceDDMRP, "127.0.0.1:8082", args, stderr, func(ctx context.Context, f host.Flags) (host.Running, error) {
		return app.Start(ctx, f.Config())
	})
}
