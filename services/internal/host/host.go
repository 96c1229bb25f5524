// Package host runs the lifecycle every service shares: SQLite store, bus
// connection, publisher, outbox and inbox, durable consumer and HTTP API,
// and their ordered shutdown. Each service's app package says only what is
// its own: how to open its store, build its core and API, and consume its
// events.
package host

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/services/authn"
	"github.com/giia/events/services/internal/delivery"
	"github.com/giia/events/services/internal/web"
)

// Config is what a service needs to run (each service's app.Config).
type Config struct {
	NATSURL  string // the NATS server, e.g. nats://127.0.0.1:4222
	HTTPAddr string // where the API listens; "127.0.0.1:0" picks a port
	DBPath   string // the SQLite file, created when missing

	// EnsureTopology creates or updates the stream and the consumers the
	// catalog declares before starting, for a service run on its own
	// against a fresh server.
	EnsureTopology bool

	// Auth is how the service authenticates to NATS (none by default).
	// It always connects with its own inbox prefix.
	Auth NATSAuth

	// HTTP bounds the API's server: timeouts, header size, a deadline
	// per request, requests at once (defaults: see HTTPLimits).
	HTTP HTTPLimits

	// HTTPAuth says whose bearer tokens the API accepts (required): the
	// issuer, the audience and the issuer's keys.
	HTTPAuth authn.Config

	Logger *slog.Logger     // default slog.Default()
	Clock  func() time.Time // the use cases' clock; default time.Now

	// ConsumerOptions are added to the service's own (see the function
	// ConsumerOptions).
	ConsumerOptions []bus.ConsumerOption

	// OutboxOptions are added to the service's own for its outbox (its
	// relay's failures logged at warning level).
	OutboxOptions []outbox.Option
}

// Validate reports every problem of the configuration at once, its
// messages prefixed with the service's name.
func (c Config) Validate(service string) error {
	var errs []error
	if c.NATSURL == "" {
		errs = append(errs, fmt.Errorf("%s: the NATS URL is required (--nats)", service))
	}
	if c.HTTPAddr == "" {
		errs = append(errs, fmt.Errorf("%s: the HTTP address is required (--http)", service))
	}
	if c.DBPath == "" {
		errs = append(errs, fmt.Errorf("%s: the database file is required (--db)", service))
	}
	if err := c.Auth.validate(service); err != nil {
		errs = append(errs, err)
	}
	if err := c.HTTP.validate(service); err != nil {
		errs = append(errs, err)
	}
	if err := c.HTTPAuth.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", service, err))
	}
	return errors.Join(errs...)
}

// Store is what the lifecycle needs of a service's store: its database,
// for the outbox and the inbox, and closing it last.
type Store interface {
	DB() *sql.DB
	Close() error
}

// Parts is what the lifecycle gives a service's Build: the outbox and the
// inbox on its store's database, its logger and its clock.
type Parts struct {
	Outbox *outbox.Outbox // its relay started
	Inbox  *outbox.Inbox
	Log    *slog.Logger // with the service's name
	Clock  func() time.Time
	Auth   web.Authenticator // the API's callers, verified (Config.HTTPAuth)
}

// Spec is what differs from one service to another. S is the service's
// store, H its generated handlers.
type Spec[S Store, H any] struct {
	// Name is the service's name in the catalog (events.ServiceDDMRP...):
	// its publisher, its log attribute and its errors' prefix.
	Name string

	// OpenStore opens the service's database at path.
	OpenStore func(ctx context.Context, path string) (S, error)

	// Build makes the service's core on its store and parts, and returns
	// its event handlers and its HTTP API.
	Build func(st S, p Parts) (H, http.Handler, error)

	// Consume starts the service's typed consumer (events.ConsumeDDMRP...).
	Consume func(ctx context.Context, c *bus.Conn, h H, opts ...bus.ConsumerOption) (*bus.Subscription, error)
}

// Service is a running service.
type Service struct {
	name string
	log  *slog.Logger
	st   Store
	conn *bus.Conn
	met  *serviceMetrics // its MeterProvider and /metrics
	out  *outbox.Outbox
	sub  *bus.Subscription
	srv  *http.Server
	ln   net.Listener
	done chan error

	stopPrune func() // stops the inbox's pruning and waits for it

	closeOnce sync.Once
	closeErr  error
}

// Start opens the database, connects to NATS, starts the outbox's relay
// (which first publishes what a previous run left pending), the durable
// consumer and the HTTP API. The stream and the consumers' topology must
// exist (bus.EnsureTopology) unless cfg.EnsureTopology; ctx bounds the
// start-up only.
func Start[S Store, H any](ctx context.Context, cfg Config, def Spec[S, H]) (_ *Service, err error) {
	if err := cfg.Validate(def.Name); err != nil {
		return nil, err
	}
	s := &Service{name: def.Name, log: cfg.Logger, done: make(chan error, 1)}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("service", def.Name)
	defer func() {
		if err != nil {
			s.close(context.Background())
		}
	}()
	connOpts, err := cfg.Auth.connectOptions(def.Name)
	if err != nil {
		return nil, err
	}
	verifier, err := authn.New(ctx, cfg.HTTPAuth)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", def.Name, err)
	}
	st, err := def.OpenStore(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	s.st = st
	if s.met, err = newMetrics(def.Name); err != nil {
		return nil, err
	}
	if s.conn, err = bus.Connect(cfg.NATSURL, append(connOpts, bus.WithMeterProvider(s.met.provider))...); err != nil {
		return nil, fmt.Errorf("%s: connect: %w", def.Name, err)
	}
	refused := func(err error) error { return cfg.Auth.refused(def.Name, err) }
	if cfg.EnsureTopology {
		if err := bus.EnsureTopology(ctx, s.conn, events.Catalog); err != nil {
			return nil, fmt.Errorf("%s: topology (--ensure-topology=false leaves it to the platform's admin): %w", def.Name, refused(err))
		}
	}
	pub, err := bus.NewPublisher(s.conn, events.Catalog, def.Name)
	if err != nil {
		return nil, fmt.Errorf("%s: publisher: %w", def.Name, err)
	}
	// The relay's failures name the auth config when the server refused
	// a subject.
	outboxOpts := append([]outbox.Option{outbox.WithErrorHandler(func(err error) {
		s.log.Warn("events not published yet; retrying", "err", refused(err))
	}), outbox.WithMeterProvider(s.met.provider)}, cfg.OutboxOptions...)
	in, err := s.openDelivery(ctx, pub, outboxOpts)
	if err != nil {
		return nil, err
	}
	s.startPruning(in)
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	handlers, handler, err := def.Build(st, Parts{Outbox: s.out, Inbox: in, Log: s.log, Clock: clock, Auth: verifier})
	if err != nil {
		return nil, err
	}
	consumerOpts := append(ConsumerOptions(in), bus.WithLogger(s.log), bus.WithErrorHandler(func(err error) {
		s.log.Warn("bus: consumer error", "err", refused(err))
	}))
	consumerOpts = append(consumerOpts, cfg.ConsumerOptions...)
	if s.sub, err = def.Consume(ctx, s.conn, handlers, consumerOpts...); err != nil {
		return nil, fmt.Errorf("%s: consume: %w", def.Name, refused(err))
	}
	if s.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("%s: listen: %w", def.Name, err)
	}
	s.srv = cfg.HTTP.server(s.routes(cfg.HTTP.bound(handler)))
	go func() {
		err := s.srv.Serve(s.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	s.log.Info(def.Name+" service started", "http", s.ln.Addr().String(), "db", cfg.DBPath)
	return s, nil
}

// ConsumerOptions are the options of a service's consumer, whose
// handlers record their events in in: one group of deliveries in flight
// at a time, so that events are handled in stream order, and the groups
// applied in one transaction of the inbox each (group commit, see
// outbox.Inbox.Scope), up to outbox.DefaultScopeMax events: a backlog is
// applied without paying a transaction's begin and commit per event, and
// each delivery is still acknowledged only once its change is committed,
// a failing one retried alone.
func ConsumerOptions(in *outbox.Inbox) []bus.ConsumerOption {
	return []bus.ConsumerOption{bus.WithMaxInFlight(1), bus.WithHandlerScope(outbox.DefaultScopeMax, in.Scope)}
}

// openDelivery sets up the outbox and the inbox on the service's database
// and starts the outbox's relay.
func (s *Service) openDelivery(ctx context.Context, pub *bus.Publisher, opts []outbox.Option) (*outbox.Inbox, error) {
	out, in, err := delivery.Open(ctx, s.st.DB(), pub, s.log, opts...)
	if err != nil {
		return nil, err
	}
	if err := out.Start(); err != nil {
		return nil, fmt.Errorf("%s: outbox: %w", s.name, err)
	}
	s.out = out
	return in, nil
}

// startPruning deletes the inbox's records of events the stream no longer
// holds, every delivery.InboxPruneEvery, until the service stops.
func (s *Service) startPruning(in *outbox.Inbox) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		delivery.PruneInbox(ctx, in, delivery.InboxPruneEvery, delivery.InboxRetention(events.Catalog.Stream), s.log)
	}()
	s.stopPrune = func() { cancel(); <-done }
}

// Outbox returns the service's outbox: every event the service publishes
// goes through it. Its Flush waits until the events committed so far are
// published; its Stats tell what is pending.
func (s *Service) Outbox() *outbox.Outbox { return s.out }

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
			errs = append(errs, fmt.Errorf("%s: http shutdown: %w", s.name, err))
		}
	} else if s.ln != nil {
		_ = s.ln.Close()
	}
	if s.sub != nil {
		if err := s.sub.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: stop consuming: %w", s.name, err))
		}
	}
	if s.out != nil {
		if err := delivery.Stop(ctx, s.out, s.log); err != nil {
			errs = append(errs, fmt.Errorf("%s: stop the outbox relay: %w", s.name, err))
		}
	}
	if s.stopPrune != nil {
		s.stopPrune() // before the database closes
	}
	if s.conn != nil {
		if err := s.conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: close connection: %w", s.name, err))
		}
	}
	if s.st != nil {
		if err := s.st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: close database: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}
