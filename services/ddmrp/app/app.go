// Package app assembles the ddmrp service: SQLite store, bus
// connection, publisher, durable consumer and HTTP API. main runs one from
// flags; the demo and the tests start several in one process. The
// lifecycle is services/internal/host's; this package says what is the
// service's own: its store, its use cases and their API, its consumer.
package app

import (
	"context"
	"net/http"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/ddmrp/internal/api"
	"github.com/giia/events/services/ddmrp/internal/core"
	"github.com/giia/events/services/ddmrp/internal/store"
	"github.com/giia/events/services/internal/host"
)

// Config is what the service needs to run; host.Flags.Config gives the
// one of the command-line flags.
type Config = host.Config

// NATSAuth is Config.Auth: how the service authenticates to NATS.
type NATSAuth = host.NATSAuth

// Service is a running ddmrp service: its Outbox, Consumers, Addr, URL,
// Done and Shutdown are host.Service's.
type Service = host.Service

// Validate reports every problem of cfg at once.
func Validate(cfg Config) error { return cfg.Validate(events.ServiceDDMRP) }

// Start opens the database, connects to NATS, starts the outbox's relay
// (which first publishes what a previous run left pending), the durable
// consumer and the HTTP API. The stream and the consumers' topology must
// exist (bus.EnsureTopology) unless cfg.EnsureTopology; ctx bounds the
// start-up only.
func Start(ctx context.Context, cfg Config) (*Service, error) {
	return host.Start(ctx, cfg, service)
}

var service = host.Spec[*store.Store, events.DDMRPHandlers]{
	Name:      events.ServiceDDMRP,
	OpenStore: store.Open,
	Build: func(st *store.Store, p host.Parts) (events.DDMRPHandlers, http.Handler, error) {
		svc, err := core.New(st, p.Outbox, p.Inbox, core.WithLogger(p.Log), core.WithClock(p.Clock))
		if err != nil {
			return events.DDMRPHandlers{}, nil, err
		}
		return svc.Handlers(), api.Handler(svc, p.Auth), nil
	},
	Consume: events.ConsumeDDMRP,
}
