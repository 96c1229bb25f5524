package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
)

// observed is an event of the run as the demo saw it on the stream.
type observed struct {
	bus.Envelope
	seq    uint64
	stored time.Time // when JetStream stored it
	seen   time.Time // when the demo received it
}

// publishLatency is from the publisher stamping the envelope, when the
// change is about to commit with the event in its outbox, to the stream
// storing it: commit to stored, through the outbox's relay.
func (o observed) publishLatency() time.Duration { return o.stored.Sub(o.Timestamp) }

// e2eLatency is from the publisher stamping the envelope to a consumer
// (the demo's) receiving it.
func (o observed) e2eLatency() time.Duration { return o.seen.Sub(o.Timestamp) }

// observer reads the stream with a plain nats.go ordered consumer (the
// services use the SDK; the demo only watches) and keeps the run's events.
type observer struct {
	org   uuid.UUID
	print func(observed)
	cc    jetstream.ConsumeContext

	mu      sync.Mutex
	lastSeq uint64 // of every message read, the run's or not
	events  []observed
	changed chan struct{} // closed when an event arrives
}

// observe starts reading the stream after sequence after; print is called
// for each event of the organization, in stream order.
func observe(ctx context.Context, js jetstream.JetStream, stream string, after uint64, org uuid.UUID, print func(observed)) (*observer, error) {
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   after + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("observer: %w", err)
	}
	o := &observer{org: org, print: print, changed: make(chan struct{}), lastSeq: after}
	o.cc, err = cons.Consume(o.handle)
	if err != nil {
		return nil, fmt.Errorf("observer: %w", err)
	}
	return o, nil
}

func (o *observer) handle(msg jetstream.Msg) {
	seen := time.Now()
	md, err := msg.Metadata()
	if err != nil {
		return // not a stream message: nothing of the run
	}
	o.mu.Lock()
	o.lastSeq = max(o.lastSeq, md.Sequence.Stream)
	o.mu.Unlock()
	var ev observed
	if err := json.Unmarshal(msg.Data(), &ev.Envelope); err != nil || ev.OrganizationID != o.org {
		return // not an envelope, or another run's or tenant's event
	}
	ev.seq, ev.stored, ev.seen = md.Sequence.Stream, md.Timestamp, seen
	o.print(ev)
	o.mu.Lock()
	o.events = append(o.events, ev)
	close(o.changed)
	o.changed = make(chan struct{})
	o.mu.Unlock()
}

func (o *observer) stop() { o.cc.Stop() }

// snapshot returns the events seen so far.
func (o *observer) snapshot() []observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observed(nil), o.events...)
}

// wait returns the first event after index from that matches, waiting for
// it until ctx ends.
func (o *observer) wait(ctx context.Context, from int, what string, match func(observed) bool) (observed, int, error) {
	for {
		o.mu.Lock()
		evs, changed := o.events, o.changed
		o.mu.Unlock()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return evs[i], i, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return observed{}, 0, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// last returns the stream sequence of the last message read.
func (o *observer) last() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastSeq
}

// count returns how many events were seen.
func (o *observer) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.events)
}

// p99 returns the 99th percentile of ds (nearest rank), in milliseconds.
func p99(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (99*len(s) + 99) / 100 // ceil(0.99 n)
	return ms(s[rank-1])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
