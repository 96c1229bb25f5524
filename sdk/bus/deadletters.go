package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/giia/events/sdk/spec"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderReplayOf is set on a replayed dead letter: "<dead-letter
// stream>:<sequence>" of the dead letter it came from.
const HeaderReplayOf = "Giia-Replay-Of"

// DeadLetter is a message a consumer gave up on, as kept in the
// dead-letter stream: the original bytes, and why.
type DeadLetter struct {
	Sequence        uint64 // in the dead-letter stream; what ReplayDeadLetter takes
	Subject         string // in the dead-letter stream: <prefix>.<service>.<original subject>
	OriginalSubject string
	Service         string // the consuming service that gave up
	Consumer        string // its durable
	Reason          string
	DeliveryCount   uint64 // deliveries made, the last included
	StreamSequence  uint64 // of the original message in the events stream
	EventID         string // the envelope's id; empty when the envelope could not be read
	Time            time.Time
	Data            []byte // the original message, byte for byte
}

// DeadLetterFilter narrows ListDeadLetters and ReplayAll; see
// FilterService, FilterSubject and FilterLimit. A filter checks its
// argument and returns an error wrapping ErrInvalidOption for a bad one.
type DeadLetterFilter func(*deadLetterFilter) error

type deadLetterFilter struct {
	service, subject string
	limit            int
}

// FilterService keeps the dead letters of one consuming service.
func FilterService(service string) DeadLetterFilter {
	return func(f *deadLetterFilter) error {
		if !isToken(service) {
			return fmt.Errorf("%w: dead-letter service %q (want a service name)", ErrInvalidOption, service)
		}
		f.service = service
		return nil
	}
}

// FilterSubject keeps the dead letters of one original subject.
func FilterSubject(subject string) DeadLetterFilter {
	return func(f *deadLetterFilter) error {
		if subject == "" || !allTokens(subject) {
			return fmt.Errorf("%w: dead-letter subject %q (want an event's subject, no wildcards)", ErrInvalidOption, subject)
		}
		f.subject = subject
		return nil
	}
}

// FilterLimit keeps the first n dead letters (oldest first).
func FilterLimit(n int) DeadLetterFilter {
	return func(f *deadLetterFilter) error {
		if n < 1 {
			return fmt.Errorf("%w: dead-letter limit %d (want >= 1)", ErrInvalidOption, n)
		}
		f.limit = n
		return nil
	}
}

func isToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}

func allTokens(subject string) bool {
	for t := range strings.SplitSeq(subject, ".") {
		if !isToken(t) {
			return false
		}
	}
	return true
}

// subjectUnder returns the dead-letter subject filter of f under prefix.
func (f *deadLetterFilter) subjectUnder(prefix string) string {
	service, subject := "*", ">"
	if f.service != "" {
		service = f.service
	}
	if f.subject != "" {
		subject = f.subject
	}
	return prefix + "." + service + "." + subject
}

// ListDeadLetters returns the dead letters of cat's dead-letter stream,
// oldest first, that pass every filter. It reads them one request each,
// skipping the gaps replays leave. Errors: ErrInvalidOption, and the
// server's when the stream cannot be read (an error wrapping
// ErrPermissionDenied when the connection's user may not read it).
func ListDeadLetters(ctx context.Context, c *Conn, cat *spec.Catalog, filters ...DeadLetterFilter) ([]DeadLetter, error) {
	var f deadLetterFilter
	for _, opt := range filters {
		if err := opt(&f); err != nil {
			return nil, err
		}
	}
	if c == nil || cat == nil {
		return nil, fmt.Errorf("%w: nil connection or catalog", ErrInvalidOption)
	}
	name, prefix := spec.DeadLetters(cat)
	stream, err := deadLetterStream(ctx, c, name)
	if err != nil {
		return nil, err
	}
	filter := f.subjectUnder(prefix)
	var out []DeadLetter
	for seq := uint64(1); f.limit == 0 || len(out) < f.limit; {
		var m *jetstream.RawStreamMsg
		err := c.whileAllowed(ctx, "$JS.API.STREAM.MSG.GET."+name, func(ctx context.Context) (err error) {
			m, err = stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
			return err
		})
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bus: read dead letters from %q: %w", name, err)
		}
		out = append(out, toDeadLetter(m, prefix))
		seq = m.Sequence + 1
	}
	return out, nil
}

func deadLetterStream(ctx context.Context, c *Conn, name string) (jetstream.Stream, error) {
	var stream jetstream.Stream
	err := c.whileAllowed(ctx, "$JS.API.STREAM.INFO."+name, func(ctx context.Context) (err error) {
		stream, err = c.js.Stream(ctx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bus: dead-letter stream %q: %w", name, err)
	}
	return stream, nil
}

// toDeadLetter reads m, a message of the dead-letter stream under prefix.
// Headers the subscriber sets are preferred; the subject fills in for a
// message stored by other means.
func toDeadLetter(m *jetstream.RawStreamMsg, prefix string) DeadLetter {
	h := m.Header
	dl := DeadLetter{
		Sequence:        m.Sequence,
		Subject:         m.Subject,
		OriginalSubject: h.Get(HeaderOriginalSubject),
		Consumer:        h.Get(HeaderConsumer),
		Reason:          h.Get(HeaderDeadLetterReason),
		EventID:         h.Get(HeaderEventID),
		Time:            m.Time,
		Data:            m.Data,
	}
	dl.DeliveryCount, _ = strconv.ParseUint(h.Get(HeaderDeliveryCount), 10, 64)
	dl.StreamSequence, _ = strconv.ParseUint(h.Get(HeaderStreamSequence), 10, 64)
	if rest, ok := strings.CutPrefix(m.Subject, prefix+"."); ok {
		service, original, _ := strings.Cut(rest, ".")
		dl.Service = service
		if dl.OriginalSubject == "" {
			dl.OriginalSubject = original
		}
	}
	return dl
}

// ReplayDeadLetter publishes the dead letter with sequence seq again, its
// original bytes to its original subject in the events stream, then
// deletes it from the dead-letter stream, only once the events stream
// acknowledged the publish. The replay is a deliberate new delivery: its
// Nats-Msg-Id is "replay-<event id>-<seq>" (the original's stream
// sequence stands in for an unreadable envelope), not the original's,
// which may still sit in the duplicates window; a replay retried after a
// failure is still stored once.
//
// Every consumer of the subject receives the replay, not only the one that
// gave up: the envelope keeps its id, so consumers that already applied
// the event recognise it (see the inbox).
//
// Errors: ErrDeadLetterNotFound, ErrInvalidDeadLetter, ErrInvalidOption,
// a *PublishError (ErrPublishFailed, and ErrPermissionDenied when the
// user may not publish the subject), or the server's.
func ReplayDeadLetter(ctx context.Context, c *Conn, cat *spec.Catalog, seq uint64) error {
	if c == nil || cat == nil {
		return fmt.Errorf("%w: nil connection or catalog", ErrInvalidOption)
	}
	name, prefix := spec.DeadLetters(cat)
	stream, err := deadLetterStream(ctx, c, name)
	if err != nil {
		return err
	}
	var m *jetstream.RawStreamMsg
	err = c.whileAllowed(ctx, "$JS.API.STREAM.MSG.GET."+name, func(ctx context.Context) (err error) {
		m, err = stream.GetMsg(ctx, seq)
		return err
	})
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%w: sequence %d in %q", ErrDeadLetterNotFound, seq, name)
	}
	if err != nil {
		return fmt.Errorf("bus: read dead letter %d from %q: %w", seq, name, err)
	}
	return replay(ctx, c, cat, stream, toDeadLetter(m, prefix))
}

// ReplayAll replays, oldest first, every dead letter that passes the
// filters, as ReplayDeadLetter does, and returns how many it replayed. A
// dead letter that cannot be replayed does not stop the others; the
// errors are joined. It stops when ctx ends.
func ReplayAll(ctx context.Context, c *Conn, cat *spec.Catalog, filters ...DeadLetterFilter) (int, error) {
	dls, err := ListDeadLetters(ctx, c, cat, filters...)
	if err != nil {
		return 0, err
	}
	if len(dls) == 0 {
		return 0, nil
	}
	name, _ := spec.DeadLetters(cat)
	stream, err := deadLetterStream(ctx, c, name)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, dl := range dls {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := replay(ctx, c, cat, stream, dl); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// replay publishes dl to its original subject, then deletes it.
func replay(ctx context.Context, c *Conn, cat *spec.Catalog, stream jetstream.Stream, dl DeadLetter) error {
	name := stream.CachedInfo().Config.Name
	if dl.OriginalSubject == "" {
		return fmt.Errorf("%w: sequence %d in %q has no original subject", ErrInvalidDeadLetter, dl.Sequence, name)
	}
	if _, ok := cat.Event(dl.OriginalSubject); !ok {
		return fmt.Errorf("%w: sequence %d in %q: %w: %q", ErrInvalidDeadLetter, dl.Sequence, name, ErrUnknownSubject, dl.OriginalSubject)
	}
	origin := dl.EventID
	if origin == "" {
		origin = "seq" + strconv.FormatUint(dl.StreamSequence, 10)
	}
	msgID := fmt.Sprintf("replay-%s-%d", origin, dl.Sequence)
	msg := &nats.Msg{Subject: dl.OriginalSubject, Data: dl.Data, Header: nats.Header{}}
	msg.Header.Set(HeaderReplayOf, name+":"+strconv.FormatUint(dl.Sequence, 10))
	err := c.whileAllowed(ctx, msg.Subject, func(ctx context.Context) error {
		_, err := c.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(cat.Stream.Name))
		return err
	})
	if err != nil {
		id, _ := uuid.Parse(dl.EventID) // uuid.Nil for an unreadable envelope
		return &PublishError{Subject: msg.Subject, EventID: id, Attempts: 1, Err: fmt.Errorf("replay of dead letter %d: %w", dl.Sequence, err)}
	}
	err = c.whileAllowed(ctx, "$JS.API.STREAM.MSG.DELETE."+name, func(ctx context.Context) error {
		return stream.DeleteMsg(ctx, dl.Sequence)
	})
	if err != nil {
		return fmt.Errorf("bus: replayed dead letter %d but could not delete it from %q (replaying it again stores it once): %w", dl.Sequence, name, err)
	}
	return nil
}
