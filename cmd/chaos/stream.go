package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// pollInterval is how often poll checks its condition.
const pollInterval = 10 * time.Millisecond

// poll checks cond every few milliseconds until it holds, returns an
// error, or ctx ends; the error then names what was awaited and the last
// error cond returned.
func poll(ctx context.Context, what string, cond func() (bool, error)) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last error
	for {
		ok, err := cond()
		if ok && err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %w)", what, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// pollFor is poll bounded by timeout.
func pollFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return poll(ctx, what, cond)
}

// storedMsg is one message of a stream as a plain client reads it.
type storedMsg struct {
	Seq     uint64
	Subject string
	Header  nats.Header
	Data    []byte
	Time    time.Time
}

// readStream returns every message of stream, in order, read with an
// ordered consumer of a plain nats.go client: what a tool outside the
// SDK would see.
func readStream(ctx context.Context, js jetstream.JetStream, stream string) ([]storedMsg, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("stream %s: ordered consumer: %w", stream, err)
	}
	var out []storedMsg
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return out, fmt.Errorf("stream %s: fetch: %w", stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return out, fmt.Errorf("stream %s: %w", stream, err)
			}
			out = append(out, storedMsg{Seq: meta.Sequence.Stream, Subject: m.Subject(), Header: m.Headers(), Data: m.Data(), Time: meta.Timestamp})
			if meta.Sequence.Stream >= last {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return out, fmt.Errorf("stream %s: fetch: %w", stream, err)
		}
		if n == 0 && ctx.Err() != nil {
			return out, fmt.Errorf("stream %s: read %d of its messages: %w", stream, len(out), ctx.Err())
		}
	}
}

// readStreamRetry is readStream retried for up to 30s, for a cluster
// whose nodes have just come back.
func readStreamRetry(ctx context.Context, js jetstream.JetStream, stream string) ([]storedMsg, error) {
	var msgs []storedMsg
	err := pollFor(ctx, 30*time.Second, "reading stream "+stream, func() (bool, error) {
		var err error
		msgs, err = readStream(ctx, js, stream)
		return err == nil, err
	})
	return msgs, err
}

// idCounts counts the messages of each event id (the Nats-Msg-Id
// header); messages without a usable id are counted under uuid.Nil.
func idCounts(msgs []storedMsg) map[uuid.UUID]int {
	out := make(map[uuid.UUID]int, len(msgs))
	for _, m := range msgs {
		id, err := uuid.Parse(m.Header.Get(jetstream.MsgIDHeader))
		if err != nil {
			id = uuid.Nil
		}
		out[id]++
	}
	return out
}

// consumerIdle reports whether the durable has delivered everything and
// has nothing waiting for an acknowledgement; when it has not, the error
// says what it still holds.
func consumerIdle(ctx context.Context, js jetstream.JetStream, stream, durable string) (bool, error) {
	c, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		return false, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return false, err
	}
	if info.NumPending == 0 && info.NumAckPending == 0 {
		return true, nil
	}
	return false, fmt.Errorf("consumer %s: %d pending, %d awaiting ack (%d redelivered), %d pull requests waiting, ack floor %d",
		durable, info.NumPending, info.NumAckPending, info.NumRedelivered, info.NumWaiting, info.AckFloor.Stream)
}
