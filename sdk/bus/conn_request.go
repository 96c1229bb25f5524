package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/giia/events/internal/backoff"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A synchronous publish is a request: the message goes out with a reply
// subject and the stream answers there with its ack. nats.go's
// js.PublishMsg makes, for each one, a context with a timer, a reply
// subject, a channel and a reflective decoding of the ack. The
// connection's acks instead arrive on one subscription of its own
// (<inbox>.<token>), each waited for by a pooled acker that keeps its
// reply subject, channel and timer from one publish to the next, and the
// ack is read without reflection. What a publish does on the wire, and
// the errors it returns, are those of js.PublishMsg.

// acks routes the replies of a connection's synchronous publishes to
// their ackers.
type acks struct {
	once   sync.Once
	err    error
	prefix string // the subscription's subject without its final "*"
	sub    *nats.Subscription
	next   atomic.Uint64 // the last token handed out

	mu      sync.Mutex
	waiting map[string]*acker // by token

	pool sync.Pool // of *acker whose last exchange ended with its reply

	stream atomic.Pointer[string] // the last stream name acked, reused
}

// acker waits for the reply to one request at a time.
type acker struct {
	token   string
	reply   string // the reply subject: prefix + token
	subject string // of the request in flight, for permission refusals
	ch      chan ackReply
	timer   *time.Timer
}

// ackReply is the reply a request got, or why it will get none.
type ackReply struct {
	msg *nats.Msg
	err error // a permission refusal
}

// Same values as nats.go's: no_responders replies carry this status.
const (
	statusHeader        = "Status"
	noRespondersStatus  = "503"
	noResponderRetries  = 2                      // jetstream.DefaultPubRetryAttempts
	noResponderWaitTime = 250 * time.Millisecond // jetstream.DefaultPubRetryWait
)

// noResponderWait spaces the retries after no_responders (a stream whose
// leader is moving): at least nats.go's wait, as js.PublishMsg waits, and
// at most twice it, so that the publishers that hit one election do not
// all retry at once.
var noResponderWait = backoff.Policy{First: 2 * noResponderWaitTime, Max: 2 * noResponderWaitTime}

// startAcks subscribes to the connection's ack subjects on first use.
func (c *Conn) startAcks() error {
	a := &c.acks
	a.once.Do(func() {
		a.waiting = make(map[string]*acker)
		a.prefix = c.nc.NewInbox() + "."
		a.sub, a.err = c.nc.Subscribe(a.prefix+"*", c.routeAck)
	})
	if a.err != nil {
		return fmt.Errorf("bus: subscribe to publish acks: %w", a.err)
	}
	return nil
}

// routeAck hands m to the acker waiting for it; a late reply, whose
// publish gave up already, finds none and is dropped.
func (c *Conn) routeAck(m *nats.Msg) {
	a := &c.acks
	if len(m.Subject) <= len(a.prefix) {
		return
	}
	token := m.Subject[len(a.prefix):]
	a.mu.Lock()
	w := a.waiting[token]
	delete(a.waiting, token)
	a.mu.Unlock()
	if w != nil {
		w.ch <- ackReply{msg: m} // room for one, and only one is sent
	}
}

// getAcker returns an idle acker registered for a request to subject.
func (c *Conn) getAcker(subject string) *acker {
	a := &c.acks
	w, _ := a.pool.Get().(*acker)
	if w == nil {
		w = &acker{token: strconv.FormatUint(a.next.Add(1), 36), ch: make(chan ackReply, 1)}
		w.reply = a.prefix + w.token
		w.timer = time.NewTimer(time.Hour)
		w.timer.Stop()
	}
	w.subject = subject
	a.mu.Lock()
	a.waiting[w.token] = w
	a.mu.Unlock()
	return w
}

// putAcker takes w back once its request ended. Only an acker that got
// its reply is reused: one that gave up may still be sent a late reply
// (or a refusal), which its next request must not take for its own.
func (c *Conn) putAcker(w *acker, replied bool) {
	w.timer.Stop()
	if !replied {
		a := &c.acks
		a.mu.Lock()
		delete(a.waiting, w.token)
		a.mu.Unlock()
		return
	}
	w.subject = ""
	c.acks.pool.Put(w)
}

// denyAcks fails the requests waiting on subject (every one when subject
// is empty), which the server refused to take. Called with c.mu held.
func (c *Conn) denyAcks(subject string, err error) {
	a := &c.acks
	a.mu.Lock()
	defer a.mu.Unlock()
	for token, w := range a.waiting {
		if subject == "" || w.subject == subject {
			delete(a.waiting, token)
			w.ch <- ackReply{err: err}
		}
	}
}

// publishSync sends msg, an event to be stored in a stream, and waits up
// to timeout (and while ctx lasts) for the stream's ack. Errors are those
// of js.PublishMsg: ctx's error, context.DeadlineExceeded when no ack came
// in time, jetstream.ErrNoStreamResponse when no stream took the subject
// (after the same retries), a *jetstream.APIError wrapped when the stream
// refused the message, jetstream.ErrInvalidJSAck; and ErrPermissionDenied
// wrapped when the server refused the subject.
func (c *Conn) publishSync(ctx context.Context, msg *nats.Msg, timeout time.Duration) (jetstream.PubAck, error) {
	if err := ctx.Err(); err != nil {
		return jetstream.PubAck{}, err
	}
	if err := c.startAcks(); err != nil {
		return jetstream.PubAck{}, err
	}
	deadline := time.Now().Add(timeout)
	for retry := 0; ; retry++ {
		m, err := c.request(ctx, msg, time.Until(deadline))
		if err != nil {
			return jetstream.PubAck{}, err
		}
		if len(m.Data) == 0 && m.Header.Get(statusHeader) == noRespondersStatus {
			if retry == noResponderRetries {
				return jetstream.PubAck{}, jetstream.ErrNoStreamResponse
			}
			t := time.NewTimer(noResponderWait.Delay(retry))
			select {
			case <-ctx.Done():
				t.Stop()
				return jetstream.PubAck{}, ctx.Err()
			case <-t.C:
			}
			continue
		}
		return c.acks.parse(m.Data)
	}
}

// request sends msg with a reply subject of the connection's and waits for
// the reply.
func (c *Conn) request(ctx context.Context, msg *nats.Msg, timeout time.Duration) (*nats.Msg, error) {
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	w := c.getAcker(msg.Subject)
	msg.Reply = w.reply
	err := c.nc.PublishMsg(msg)
	msg.Reply = ""
	if err != nil {
		c.putAcker(w, false)
		return nil, err
	}
	w.timer.Reset(timeout)
	select {
	case r := <-w.ch:
		if r.err != nil {
			c.putAcker(w, false)
			return nil, fmt.Errorf("%w: %w", ErrPermissionDenied, r.err)
		}
		c.putAcker(w, true)
		return r.msg, nil
	case <-w.timer.C:
		c.putAcker(w, false)
		return nil, context.DeadlineExceeded
	case <-ctx.Done():
		c.putAcker(w, false)
		return nil, ctx.Err()
	case <-c.closed:
		c.putAcker(w, false)
		return nil, nats.ErrConnectionClosed
	}
}

// parse reads a stream's reply to a publish, as js.PublishMsg does.
func (a *acks) parse(data []byte) (jetstream.PubAck, error) {
	if ack, ok := a.parseFast(data); ok {
		return ack, nil
	}
	var resp struct {
		Error     *jetstream.APIError `json:"error,omitempty"`
		Stream    string              `json:"stream"`
		Sequence  uint64              `json:"seq"`
		Duplicate bool                `json:"duplicate,omitempty"`
		Domain    string              `json:"domain,omitempty"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return jetstream.PubAck{}, jetstream.ErrInvalidJSAck
	}
	if resp.Error != nil {
		return jetstream.PubAck{}, fmt.Errorf("nats: %w", resp.Error)
	}
	if resp.Stream == "" {
		return jetstream.PubAck{}, jetstream.ErrInvalidJSAck
	}
	return jetstream.PubAck{Stream: resp.Stream, Sequence: resp.Sequence, Duplicate: resp.Duplicate, Domain: resp.Domain}, nil
}

// parseFast reads the ack servers send, {"stream":"S","seq":N} with
// perhaps "duplicate" and "domain", without reflection; ok is false for
// anything else (an error, escapes, other keys), left to encoding/json.
func (a *acks) parseFast(data []byte) (ack jetstream.PubAck, ok bool) {
	s := data
	if len(s) < 2 || s[0] != '{' {
		return ack, false
	}
	s = s[1:]
	for {
		key, rest, ok := cutJSONPlainString(s)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return ack, false
		}
		s = rest[1:]
		switch string(key) {
		case "stream", "domain":
			v, rest, ok := cutJSONPlainString(s)
			if !ok {
				return ack, false
			}
			if string(key) == "stream" {
				ack.Stream = a.streamName(v)
			} else {
				ack.Domain = string(v)
			}
			s = rest
		case "seq":
			n := 0
			for n < len(s) && n < 20 && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			v, err := strconv.ParseUint(string(s[:n]), 10, 64)
			if err != nil {
				return ack, false
			}
			ack.Sequence, s = v, s[n:]
		case "duplicate":
			switch {
			case bytes.HasPrefix(s, []byte("true")):
				ack.Duplicate, s = true, s[4:]
			case bytes.HasPrefix(s, []byte("false")):
				s = s[5:]
			default:
				return ack, false
			}
		default:
			return ack, false
		}
		if len(s) == 0 {
			return ack, false
		}
		switch s[0] {
		case ',':
			s = s[1:]
		case '}':
			if len(s) != 1 || ack.Stream == "" {
				return ack, false
			}
			return ack, true
		default:
			return ack, false
		}
	}
}

// cutJSONPlainString cuts a JSON string without escapes from the start of
// s, returning its content and what follows.
func cutJSONPlainString(s []byte) (v, rest []byte, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(s[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	v = s[1 : 1+end]
	if bytes.IndexByte(v, '\\') >= 0 {
		return nil, nil, false
	}
	return v, s[2+end:], true
}

// streamName returns b as a string, the one of the last ack when it names
// the same stream, as nearly every ack does.
func (a *acks) streamName(b []byte) string {
	if p := a.stream.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	a.stream.Store(&s)
	return s
}
