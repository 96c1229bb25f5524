// Package app assembles the ddmrp service: SQLite store, bus
// connection, publisher, durable consumer and HTTP API. main runs one from
// flags; the demo and the tests start several in one process. The
// lifecycle is services/internal/host's; this package says what is the
// service's own.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/ddmrp/internal/api"
	"github.com/giia/events/services/ddmrp/internal/core"
	"github.com/giia/events/services/ddmrp/internal/store"
	"github.com/giia/events/services/internal/host"
)

// Config is what the service needs to run.
type Config struct {
	NATSURL  string // the NATS server, e.g. nats://127.0.0.1:4222
	HTTPAddr string // where the API listens; "127.0.0.1:0" picks a port
	DBPath   string // the SQLite file, created when missing

	// EnsureTopology creates or updates the stream and the consumers the
	// catalog declares before starting, for a service run on its own
	// against a fresh server.
	EnsureTopology bool

	Logger *slog.Logger     // default slog.Default()
	Clock  func() time.Time // default time.Now

	// ConsumerOptions are added to the service's own (one event in flight
	// at a time, so that events are handled in stream order).
	ConsumerOptions []bus.ConsumerOption

	// OutboxOptions are added to the service's own for its outbox (its
	// relay's failures logged at warning level).
	OutboxOptions []bus.OutboxOption
}

// FromFlags returns the configuration of the service's command-line flags.
func FromFlags(f host.Flags) Config {
	return Config{NATSURL: f.NATSURL, HTTPAddr: f.HTTPAddr, DBPath: f.DBPath, EnsureTopology: f.EnsureTopology, Logger: f.Logger}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	return c.host().Validate(events.ServiceDDMRP)
}

func (c Config) host() host.Config {
	return host.Config{
		NATSURL:         c.NATSURL,
		HTTPAddr:        c.HTTPAddr,
		DBPath:          c.DBPath,
		EnsureTopology:  c.EnsureTopology,
		Logger:          c.Logger,
		ConsumerOptions: c.ConsumerOptions,
		OutboxOptions:   c.OutboxOptions,
	}
}

// Service is a running ddmrp service: its Outbox, Consumers, Addr, URL,
// Done and Shutdown are host.Service's.
type Service struct {
	*host.Service
}

// Start opens the database, connects to NATS, starts the outbox's relay
// (which first publishes what a previous run left pending), the durable
// consumer and the HTTP API. The stream and the consumers' topology must
// exist (bus.EnsureTopology); ctx bounds the start-up only.
func Start(ctx context.Context, cfg Config) (*Service, error) {
	h, err := host.Start(ctx, cfg.host(), host.Spec[*store.Store, events.DDMRPHandlers]{
		Name:      events.ServiceDDMRP,
		OpenStore: store.Open,
		Build: func(st *store.Store, out *bus.Outbox, in *bus.Inbox, log *slog.Logger) (events.DDMRPHandlers, http.Handler, error) {
			opts := []core.Option{core.WithLogger(log)}
			if cfg.Clock != nil {
				opts = append(opts, core.WithClock(cfg.Clock))
			}
			svc, err := core.New(st, out, in, opts...)
			if err != nil {
				return events.DDMRPHandlers{}, nil, err
			}
			return svc.Handlers(), api.Handler(svc), nil
		},
		Consume: events.ConsumeDDMRP,
	})
	if err != nil {
		return nil, err
	}
	return &Service{Service: h}, nil
}
