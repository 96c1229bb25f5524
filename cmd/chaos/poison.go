package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

// What went wrong with a message that must end in the dead letters.
type poisonKind string

const (
	kindFailing      poisonKind = "failing"       // its handler always returns an error
	kindPanicking    poisonKind = "panicking"     // its handler always panics
	kindGarbage      poisonKind = "garbage"       // bytes that are no envelope
	kindSchema       poisonKind = "schema"        // an envelope whose payload breaks the event's schema
	kindWrongSubject poisonKind = "wrong_subject" // an envelope naming another subject than the one it came on
)

// deadLetterReason is a piece of the reason each kind must be given.
var deadLetterReason = map[poisonKind]string{
	kindFailing:      "handler failed on delivery",
	kindPanicking:    "panicked",
	kindGarbage:      "invalid message",
	kindSchema:       "invalid payload",
	kindWrongSubject: "envelope subject",
}

// runPoison: a consumer whose handler always fails (or panics) for some
// events keeps applying the others, and dead-letters the failing ones on
// their MaxDeliver-th delivery; garbage bytes, payloads that break the
// schema and envelopes on the wrong subject, sent by a plain nats.go
// client that no SDK check stops, are dead-lettered at once with the
// reason. Nothing crashes: a last event sent afterwards is applied.
func runPoison(ctx context.Context, e *env, r *Result) error {
	good := e.size(2000, 300)
	counts := map[poisonKind]int{
		kindFailing:      e.size(20, 5),
		kindPanicking:    e.size(5, 2),
		kindGarbage:      e.size(10, 3),
		kindSchema:       e.size(10, 3),
		kindWrongSubject: e.size(5, 2),
	}
	const maxDeliver = 3
	nakDelay := e.dur(300*time.Millisecond, 150*time.Millisecond)

	b, err := newBroker(filepath.Join(e.dir, "nats"))
	if err != nil {
		return err
	}
	defer b.Shutdown()
	admin, err := connect(b.URL(), "chaos-admin")
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := bus.EnsureTopology(ctx, admin, events.Catalog); err != nil {
		return err
	}
	rd, err := newReader(b.URL())
	if err != nil {
		return err
	}
	defer rd.Close()
	led, err := openLedger(ctx, filepath.Join(e.dir, "ai-hub.db"), events.ServiceAIHub)
	if err != nil {
		return err
	}
	defer led.Close()

	failing := idSet(newIDs(counts[kindFailing]))
	panicking := idSet(newIDs(counts[kindPanicking]))
	var mu sync.Mutex
	var firstFailure time.Time
	fail := func(ev bus.Event[events.InventoryUpdated]) error {
		if !failing[ev.ID] && !panicking[ev.ID] {
			return nil
		}
		mu.Lock()
		if firstFailure.IsZero() {
			firstFailure = time.Now()
		}
		mu.Unlock()
		if panicking[ev.ID] {
			panic(fmt.Sprintf("poison event %s", ev.ID))
		}
		return fmt.Errorf("poison event %s: this handler always fails", ev.ID)
	}
	cconn, err := connect(b.URL(), "chaos-ai-hub")
	if err != nil {
		return err
	}
	defer cconn.Close()
	errs := &errorCounter{log: e.log}
	sub, err := consumeStock(ctx, cconn, led, errs, fail, bus.WithMaxInFlight(8), bus.WithMaxDeliver(maxDeliver),
		bus.WithNakDelay(func(uint64) time.Duration { return nakDelay }))
	if err != nil {
		return err
	}
	defer stopSub(sub)

	pub, err := bus.NewPublisher(admin, events.Catalog, events.ServiceExecution)
	if err != nil {
		return err
	}
	product, location := uuid.New(), uuid.New()
	expectDead := map[uint64]poisonKind{} // by stream sequence
	sent := map[uint64][]byte{}           // what the plain client sent, by stream sequence
	wantReason := map[uint64]string{}     // what its dead letter's reason must name
	published := 0
	publish := func(id uuid.UUID, n int) (uint64, error) {
		ack, err := pub.Publish(ctx, events.SubjectExecutionInventoryUpdated, stockEvent(product, location, n), bus.WithEventID(id))
		if err != nil {
			return 0, err
		}
		published++
		return ack.Sequence, nil
	}
	sendRaw := func(kind poisonKind, data []byte, want string) error {
		msg := &nats.Msg{Subject: events.SubjectExecutionInventoryUpdated, Data: data, Header: nats.Header{}}
		ack, err := rd.js.PublishMsg(ctx, msg, jetstream.WithMsgID(uuid.NewString()))
		if err != nil {
			return fmt.Errorf("plain publish of %s: %w", kind, err)
		}
		published++
		expectDead[ack.Sequence] = kind
		sent[ack.Sequence] = data
		wantReason[ack.Sequence] = want
		return nil
	}

	// The poison first, so that the good events flow while it is retried.
	for id := range failing {
		seq, err := publish(id, 0)
		if err != nil {
			return err
		}
		expectDead[seq] = kindFailing
	}
	for id := range panicking {
		seq, err := publish(id, 0)
		if err != nil {
			return err
		}
		expectDead[seq] = kindPanicking
	}
	type rawMsg struct {
		kind       poisonKind
		data       []byte
		wantReason string
	}
	var raw []rawMsg
	for _, maker := range []struct {
		kind  poisonKind
		build func(int) ([]byte, string)
	}{{kindGarbage, garbage}, {kindSchema, schemaBreaking}, {kindWrongSubject, wrongSubject}} {
		for i := range counts[maker.kind] {
			data, want := maker.build(i)
			raw = append(raw, rawMsg{maker.kind, data, want})
		}
	}
	// The good events, the garbage spread among them; the last good one
	// waits for the end.
	goodIDs := newIDs(good)
	every := max(good/(len(raw)+1), 1)
	nextRaw := 0
	for i, id := range goodIDs[:good-1] {
		if _, err := publish(id, i); err != nil {
			return err
		}
		if i%every == 0 && nextRaw < len(raw) {
			x := raw[nextRaw]
			if err := sendRaw(x.kind, x.data, x.wantReason); err != nil {
				return err
			}
			nextRaw++
		}
	}
	for _, x := range raw[nextRaw:] {
		if err := sendRaw(x.kind, x.data, x.wantReason); err != nil {
			return err
		}
	}
	wantDead := len(expectDead)

	// Once every poison message is a dead letter, one more event: the
	// consumer is still alive.
	deadErr := pollFor(ctx, e.dur(time.Minute, 30*time.Second), "every poison message in the dead letters", func() (bool, error) {
		s, err := rd.js.Stream(ctx, events.Catalog.Stream.DeadLetterStream)
		if err != nil {
			return false, err
		}
		info, err := s.Info(ctx)
		return err == nil && info.State.Msgs >= uint64(wantDead), err
	})
	last := goodIDs[good-1]
	if _, err := publish(last, good); err != nil {
		return err
	}
	lastSent := time.Now()
	drainErr := pollFor(ctx, e.dur(time.Minute, 30*time.Second), "every good event applied", func() (bool, error) {
		if n := led.Applied(); n < good {
			return false, fmt.Errorf("%d of %d events applied", n, good)
		}
		return consumerIdle(ctx, rd.js, events.Catalog.Stream.Name, spec.ConsumerName(events.ServiceAIHub))
	})
	r.Drain = time.Since(lastSent)
	_, alive := led.AppliedAt(last)
	stopErr := stopSub(sub)

	msgs, readErr := readStream(ctx, rd.js, events.Catalog.Stream.Name)
	dead, deadReadErr := readStream(ctx, rd.js, events.Catalog.Stream.DeadLetterStream)
	apps, appsErr := led.Applications(ctx)
	expected := idSet(goodIDs)
	t := tallyApplications(expected, apps)
	r.Published = published
	r.Stored = len(msgs)
	r.Applied = t.applied
	r.DuplicatesApplied = t.duplicates

	// Each dead letter: the expected message, once, with its reason and
	// the other headers.
	seen := map[uint64]int{}
	byKind := map[poisonKind]int{}
	var lastPoisonDead time.Time
	for _, m := range dead {
		seq, _ := strconv.ParseUint(m.Header.Get(bus.HeaderStreamSequence), 10, 64)
		kind, ok := expectDead[seq]
		if !ok {
			r.Problemf("unexpected dead letter of stream sequence %d: %s", seq, m.Header.Get(bus.HeaderDeadLetterReason))
			continue
		}
		seen[seq]++
		byKind[kind]++
		reason := m.Header.Get(bus.HeaderDeadLetterReason)
		e.log.Info("dead letter", "kind", kind, "sequence", seq, "reason", reason)
		r.Check(strings.Contains(reason, deadLetterReason[kind]), "dead letter of a %s message (sequence %d) gives the reason %q, want it to mention %q", kind, seq, reason, deadLetterReason[kind])
		r.Check(m.Header.Get(bus.HeaderOriginalSubject) == events.SubjectExecutionInventoryUpdated, "dead letter %d: original subject %q", seq, m.Header.Get(bus.HeaderOriginalSubject))
		r.Check(m.Header.Get(bus.HeaderConsumer) == spec.ConsumerName(events.ServiceAIHub), "dead letter %d: consumer %q", seq, m.Header.Get(bus.HeaderConsumer))
		wantDeliveries := "1"
		if kind == kindFailing || kind == kindPanicking {
			wantDeliveries = strconv.Itoa(maxDeliver)
			lastPoisonDead = maxTime(lastPoisonDead, m.Time)
		}
		r.Check(m.Header.Get(bus.HeaderDeliveryCount) == wantDeliveries, "dead letter of a %s message: delivery count %q, want %s", kind, m.Header.Get(bus.HeaderDeliveryCount), wantDeliveries)
		if data, ok := sent[seq]; ok {
			r.Check(string(m.Data) == string(data), "dead letter %d does not keep the original bytes", seq)
			r.Check(strings.Contains(reason, wantReason[seq]), "dead letter of a %s message (sequence %d) gives the reason %q, want it to name %s", kind, seq, reason, wantReason[seq])
		}
	}
	missing, twice := 0, 0
	for seq := range expectDead {
		switch n := seen[seq]; {
		case n == 0:
			missing++
		case n > 1:
			twice += n - 1
		}
	}
	r.Lost = t.lost + missing
	flowed := 0
	mu.Lock()
	for id := range expected {
		if at, ok := led.AppliedAt(id); ok && at.After(firstFailure) && at.Before(lastPoisonDead) {
			flowed++
		}
	}
	mu.Unlock()
	r.Add("dead_letters", len(dead))
	r.Add("dead_letters_expected", wantDead)
	for _, k := range []poisonKind{kindFailing, kindPanicking, kindGarbage, kindSchema, kindWrongSubject} {
		r.Add("dead_"+string(k), byKind[k])
	}
	r.Add("dead_lettered_twice", twice)
	r.Add("max_deliver", maxDeliver)
	r.Add("applied_while_poison_retried", flowed)
	r.Add("duplicates_delivered", led.Redeliveries())
	r.Add("consumer_errors", errs.Count())
	r.Add("consumer_alive_after", alive)
	r.Check(twice == 0, "%d messages dead-lettered more than once", twice)
	r.Check(t.unexpected == 0, "%d poison events were applied", t.unexpected)
	r.Check(flowed > 0, "no good event was applied while the poison was retried")
	r.Check(alive, "the consumer did not apply the event sent after the poison")
	return errors.Join(deadErr, drainErr, stopErr, readErr, deadReadErr, appsErr)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// garbage returns bytes that are no envelope (random bytes, JSON of the
// wrong shape, nothing) and what its dead letter's reason must say.
func garbage(i int) ([]byte, string) {
	switch i % 4 {
	case 0:
		b := make([]byte, 48)
		_, _ = rand.Read(b)
		b[0] = 0xff // never valid JSON
		return b, "invalid message: envelope"
	case 1:
		return []byte(`{"id": "truncated`), "invalid message: envelope"
	case 2:
		return []byte(`[1, 2, 3]`), "invalid message: envelope"
	default:
		return []byte{}, "invalid message: envelope"
	}
}

// envelopeBytes returns an envelope for subject with payload, valid as an
// envelope.
func envelopeBytes(subject string, payload any) []byte {
	data, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	env := bus.Envelope{
		ID: uuid.New(), Subject: subject, CorrelationID: "chaos-poison", OrganizationID: uuid.New(),
		Timestamp: time.Now().UTC(), Source: events.ServiceExecution, Version: 1, Payload: data,
	}
	out, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return out
}

// schemaBreaking returns a valid envelope whose payload breaks the schema
// of execution.inventory.updated, each i a different way, and what its
// dead letter's reason must name.
func schemaBreaking(i int) ([]byte, string) {
	p := map[string]any{
		"movement_id":  uuid.NewString(),
		"product":      map[string]any{"product_id": uuid.NewString(), "sku": "CHAOS-1"},
		"location_id":  uuid.NewString(),
		"on_hand":      map[string]any{"value": 3, "unit": "EA"},
		"delta":        1,
		"reason":       "adjustment",
		"reference_id": nil,
		"updated_at":   time.Now().UTC().Format(time.RFC3339),
	}
	var want string
	switch i % 4 {
	case 0:
		p["on_hand"] = map[string]any{"value": -5, "unit": "EA"} // negative quantity
		want = "/on_hand/value"
	case 1:
		p["reason"] = "stolen" // not in the enum
		want = "/reason"
	case 2:
		delete(p, "updated_at") // required
		want = `"updated_at"`
	default:
		p["movement_id"] = "not-a-uuid"
		want = "/movement_id"
	}
	return envelopeBytes(events.SubjectExecutionInventoryUpdated, p), want
}

// wrongSubject returns a valid envelope of another event, to be sent on
// execution.inventory.updated, and what its dead letter's reason must say.
func wrongSubject(int) ([]byte, string) {
	return envelopeBytes(events.SubjectExecutionSalesOrderCreated, map[string]any{"sales_order_id": uuid.NewString()}),
		`"execution.sales_order.created" sent on "execution.inventory.updated"`
}
