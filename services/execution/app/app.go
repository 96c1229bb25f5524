// Package app assembles the execution service: SQLite store, bus
// connection, publisher, durable consumer and HTTP API. main runs one from
// flags; the demo and the tests start several in one process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/internal/api"
	"github.com/giia/events/services/execution/internal/core"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/delivery"
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

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.NATSURL == "" {
		errs = append(errs, errors.New("execution: the NATS URL is required (--nats)"))
	}
	if c.HTTPAddr == "" {
		errs = append(errs, errors.New("execution: the HTTP address is required (--http)"))
	}
	if c.DBPath == "" {
		errs = append(errs, errors.New("execution: the database file is required (--db)"))
	}
	return errors.Join(errs...)
}

// Service is a running execution service.
type Service struct {
	log  *slog.Logger
	st   *store.Store
	conn *bus.Conn
	out  *bus.Outbox
	sub  *bus.Subscription
	srv  *http.Server
	ln   net.Listener
	done chan error

	closeOnce sync.Once
	closeErr  error
}

// Start opens the database, connects to NATS, starts the outbox's relay
// (which first publishes what a previous run left pending), the durable
// consumer and the HTTP API. The stream and the consumers' topology must
// exist (bus.EnsureTopology); ctx bounds the start-up only.
func Start(ctx context.Context, cfg Config) (_ *Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{log: cfg.Logger, done: make(chan error, 1)}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("service", events.ServiceExecution)
	defer func() {
		if err != nil {
			s.close(context.Background())
		}
	}()
	if s.st, err = store.Open(ctx, cfg.DBPath); err != nil {
		return nil, err
	}
	if s.conn, err = bus.Connect(cfg.NATSURL, bus.WithName("execution-service")); err != nil {
		return nil, fmt.Errorf("execution: connect: %w", err)
	}
	if cfg.EnsureTopology {
		if err := bus.EnsureTopology(ctx, s.conn, events.Catalog); err != nil {
			return nil, fmt.Errorf("execution: topology: %w", err)
		}
	}
	pub, err := bus.NewPublisher(s.conn, events.Catalog, events.ServiceExecution)
	if err != nil {
		return nil, fmt.Errorf("execution: publisher: %w", err)
	}
	in, err := s.openDelivery(ctx, pub, cfg.OutboxOptions)
	if err != nil {
		return nil, err
	}
	opts := []core.Option{core.WithLogger(s.log)}
	if cfg.Clock != nil {
		opts = append(opts, core.WithClock(cfg.Clock))
	}
	svc, err := core.New(s.st, s.out, in, opts...)
	if err != nil {
		return nil, err
	}
	consumerOpts := append([]bus.ConsumerOption{bus.WithMaxInFlight(1)}, cfg.ConsumerOptions...)
	if s.sub, err = events.ConsumeExecution(ctx, s.conn, svc.Handlers(), consumerOpts...); err != nil {
		return nil, fmt.Errorf("execution: consume: %w", err)
	}
	if s.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("execution: listen: %w", err)
	}
	s.srv = &http.Server{Handler: api.Handler(svc), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		err := s.srv.Serve(s.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	s.log.Info("execution service started", "http", s.ln.Addr().String(), "db", cfg.DBPath)
	return s, nil
}

// openDelivery sets up the outbox and the inbox on the service's database
// and starts the outbox's relay.
func (s *Service) openDelivery(ctx context.Context, pub *bus.Publisher, opts []bus.OutboxOption) (*bus.Inbox, error) {
	out, in, err := delivery.Open(ctx, s.st.DB(), pub, s.log, opts...)
	if err != nil {
		return nil, err
	}
	if err := out.Start(); err != nil {
		return nil, fmt.Errorf("execution: outbox: %w", err)
	}
	s.out = out
	return in, nil
}

// Outbox returns the service's outbox: every event the service publishes
// goes through it. Its Flush waits until the events committed so far are
// published; its Stats tell what is pending.
func (s *Service) Outbox() *bus.Outbox { return s.out }

// Consumers returns the names of the service's durable consumers.
func (s *Service) Consumers() []string { return s.sub.Consumers() }

// Addr returns the address the API listens on.
func (s *Service) Addr() string { return s.ln.Addr().String() }

// URL returns the API's base URL.
func (s *Service) URL() string { return "http://" + s.Addr() }

// Done reports the HTTP server's end: nil after Shutdown, its error if it
// failed on its own.
func (s *Service) Done() <-chan error { return s.done }

// Shutdown stops the service in order: no new HTTP requests (in-flight
// ones finish), stop consuming and drain the handlers, publish what the
// outbox holds (until ctx ends: what is left waits in the outbox for the
// next start), close the bus connection (draining it), then the database.
func (s *Service) Shutdown(ctx context.Context) error {
	return s.close(ctx)
}

func (s *Service) close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closeErr = s.closeAll(ctx) })
	return s.closeErr
}

func (s *Service) closeAll(ctx context.Context) error {
	var errs []error
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("execution: http shutdown: %w", err))
		}
	} else if s.ln != nil {
		_ = s.ln.Close()
	}
	if s.sub != nil {
		if err := s.sub.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("execution: stop consuming: %w", err))
		}
	}
	if s.out != nil {
		if err := delivery.Stop(ctx, s.out, s.log); err != nil {
			errs = append(errs, fmt.Errorf("execution: stop the outbox relay: %w", err))
		}
	}
	if s.conn != nil {
		if err := s.conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("execution: close connection: %w", err))
		}
	}
	if s.st != nil {
		if err := s.st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("execution: close database: %w", err))
		}
	}
	return errors.Join(errs...)
}
