package bus

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Conn is a connection to NATS with its JetStream context, shared by the
// publishers and subscriptions of a process. It is safe for concurrent use.
type Conn struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	closed chan struct{}

	mu      sync.Mutex
	watches map[*denyWatch]struct{}
	denied  []func(subject string, err error) // see onDenied

	acks acks // the synchronous publishes waiting for their acks

	metrics *instruments // from WithMeterProvider; nil: the global provider's
}

// Connect connects to the NATS server(s) at url (comma-separated for a
// cluster). By default it reconnects forever, 250ms apart, keeping
// subscriptions and buffering publishes meanwhile. It returns an error
// wrapping ErrInvalidOption for a bad option, or ErrConnect.
func Connect(url string, opts ...ConnectOption) (*Conn, error) {
	o := defaultConnectOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Conn{closed: make(chan struct{}), watches: make(map[*denyWatch]struct{})}
	if o.meterProvider != nil {
		c.metrics = newInstruments(o.meterProvider)
	}
	natsOpts := []nats.Option{
		nats.MaxReconnects(o.maxReconnects),
		nats.ReconnectWait(o.reconnectWait),
		nats.Timeout(o.timeout),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { c.asyncError(err) }),
	}
	if o.name != "" {
		natsOpts = append(natsOpts, nats.Name(o.name))
	}
	if o.credsFile != "" {
		natsOpts = append(natsOpts, nats.UserCredentials(o.credsFile))
	}
	if o.user != "" {
		natsOpts = append(natsOpts, nats.UserInfo(o.user, o.password))
	}
	if o.inboxPrefix != "" {
		natsOpts = append(natsOpts, nats.CustomInboxPrefix(o.inboxPrefix))
	}
	if o.tlsConfig != nil {
		natsOpts = append(natsOpts, nats.Secure(o.tlsConfig))
	}
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConnect, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%w: %w", ErrConnect, err)
	}
	c.nc, c.js = nc, js
	return c, nil
}

// NATS returns the underlying NATS connection.
func (c *Conn) NATS() *nats.Conn { return c.nc }

// JetStream returns the connection's JetStream context.
func (c *Conn) JetStream() jetstream.JetStream { return c.js }

// Close drains the connection: subscriptions stop receiving, what was
// published is flushed, and the connection closes. Stop subscriptions
// first so their handlers finish and acknowledge. Close on a closed
// connection returns nil.
func (c *Conn) Close() error {
	if c.nc.IsClosed() {
		return nil
	}
	if err := c.nc.Drain(); err != nil {
		c.nc.Close()
		<-c.closed
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil
		}
		return fmt.Errorf("bus: drain connection: %w", err)
	}
	<-c.closed
	return nil
}

// supportsMultiFilter reports whether the connected server accepts a
// consumer with several filter subjects (NATS 2.10 and later).
func (c *Conn) supportsMultiFilter() bool {
	return serverAtLeast(c.nc.ConnectedServerVersion(), 2, 10)
}

// serverAtLeast reports whether version ("2.9.25", "v2.10.0-beta") is at
// least major.minor; an unparsable version counts as current.
func serverAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return true
	}
	maj, err1 := strconv.Atoi(parts[0])
	mnr, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return maj > major || (maj == major && mnr >= minor)
}

// A publish refused for lack of permission is not answered: the server
// sends an asynchronous -ERR and the request would wait to its deadline.
// A denyWatch ends the waiting publish as soon as that error arrives.
type denyWatch struct {
	subject string // a subject, or a prefix of them ending in ".>"
	cancel  context.CancelFunc
	denied  error
}

// matches reports whether a refused publish to subject is one w watches.
func (w *denyWatch) matches(subject string) bool {
	if prefix, ok := strings.CutSuffix(w.subject, ">"); ok && strings.HasSuffix(prefix, ".") {
		return strings.HasPrefix(subject, prefix)
	}
	return w.subject == subject
}

var (
	deniedPublishRe = regexp.MustCompile(`(?i)permissions violation for publish to "([^"]+)"`)
	deniedReplyRe   = regexp.MustCompile(`(?i)permissions violation for publish with reply of`)
)

// watchDenied returns a watch that calls cancel when the server refuses a
// publish to subject; stop it with unwatch.
func (c *Conn) watchDenied(subject string, cancel context.CancelFunc) *denyWatch {
	w := &denyWatch{subject: subject, cancel: cancel}
	c.mu.Lock()
	c.watches[w] = struct{}{}
	c.mu.Unlock()
	return w
}

// HeaderReserve is the room an event leaves in a NATS message for
// headers: its own (message id, source, version, trace) and those a dead
// letter adds (original subject, reason, delivery, ...), so that an event
// the stream accepted can always be dead-lettered.
const HeaderReserve = 8 << 10

// maxEnvelope is the largest envelope the connection's server carries
// with HeaderReserve to spare; 0 when it has not told its max_payload.
func (c *Conn) maxEnvelope() int64 {
	max := c.nc.MaxPayload()
	if max <= HeaderReserve {
		return 0
	}
	return max - HeaderReserve
}

// onDenied calls fn, for the connection's life, with the subject of
// every publish the server refuses ("" when the refusal names only a reply
// subject) and the server's error. fn runs with the connection's lock held:
// it must not block. The asynchronous publisher uses it: one listener for
// all its events in flight, rather than a watch per event.
func (c *Conn) onDenied(fn func(subject string, err error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.denied = append(c.denied, fn)
}

// unwatch stops w and returns the permission error it saw, if any.
func (c *Conn) unwatch(w *denyWatch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.watches, w)
	return w.denied
}

func (c *Conn) asyncError(err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return
	}
	msg := err.Error()
	var subject string
	if m := deniedPublishRe.FindStringSubmatch(msg); m != nil {
		subject = m[1]
	} else if !deniedReplyRe.MatchString(msg) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for w := range c.watches {
		if (subject == "" || w.matches(subject)) && w.denied == nil {
			w.denied = err
			w.cancel()
		}
	}
	c.denyAcks(subject, err)
	for _, fn := range c.denied {
		fn(subject, err)
	}
}
