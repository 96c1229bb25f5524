package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

// consumeRounds is how many times each consumer reads the stream.
const consumeRounds = 3

// consumeRun is what one read of the stream cost.
type consumeRun struct {
	rate   float64 // events per second
	cpu    float64 // process CPU µs per event
	allocs float64 // process allocations per event
}

// consumeRuns are one consumer's runs, one per round.
type consumeRuns []consumeRun

func (rs consumeRuns) median(f func(consumeRun) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	return median(xs)
}

// consume measures how fast a stream of consumeN sales_order.shipped
// envelopes is consumed to the end, each message acknowledged explicitly:
// by raw nats.go's Consume with a callback that only acks, by the
// generated ddmrp consumer (events.ConsumeDDMRP, default options) with a
// handler that only counts, and by that consumer with its handler inside
// outbox.Inbox.Process on SQLite, one small write per event, as the
// services run it (see inboxConsume: groups of deliveries applied in one
// transaction of the inbox). The stream is filled once; each run reads it from the start on
// a fresh durable with the configuration of the ddmrp service's. The
// three alternate within each of consumeRounds rounds (which goes first
// rotates), so that they see the same load; figures are medians, the
// ratio the median of the rounds' ratios. CPU time and allocations are
// the whole process's (the embedded server's included) over the run.
func (b *bench) consume(ctx context.Context) error {
	data, err := catalogExample(filepath.Join(b.root, "catalog"), events.SubjectExecutionSalesOrderShipped)
	if err != nil {
		return err
	}
	var shipped events.SalesOrderShipped
	if err := json.Unmarshal(data, &shipped); err != nil {
		return fmt.Errorf("example of %s: %w", events.SubjectExecutionSalesOrderShipped, err)
	}
	for range b.consumeN {
		if _, err := b.pub.SalesOrderShippedAsync(ctx, shipped); err != nil {
			return err
		}
	}
	if err := b.pub.Flush(ctx); err != nil {
		return err
	}
	if got, err := b.streamMsgs(ctx); err != nil {
		return err
	} else if got != uint64(b.consumeN) {
		return fmt.Errorf("the stream holds %d events, want %d", got, b.consumeN)
	}
	// The raw durables copy the ddmrp service's (filter, ack wait, max
	// deliver, ack policy), under another name.
	durable, rawConfig, err := b.ddmrpDurable(ctx)
	if err != nil {
		return err
	}

	in, stop, err := b.benchInbox(ctx)
	if err != nil {
		return err
	}
	defer stop()

	var raw, sdk, inbox consumeRuns
	var ratios []float64
	for r := range consumeRounds {
		steps := []func() error{
			func() error {
				cfg := rawConfig
				cfg.Durable, cfg.Name = fmt.Sprintf("bench-raw-%d", r), ""
				run, err := b.measureConsume(ctx, cfg.Durable, func(done func()) (func(), error) {
					return b.rawConsume(ctx, cfg, done)
				})
				raw = append(raw, run)
				return err
			},
			func() error {
				run, err := b.measureConsume(ctx, durable, func(done func()) (func(), error) {
					return b.sdkConsume(ctx, durable, func(context.Context, bus.Event[events.SalesOrderShipped]) error {
						done()
						return nil
					})
				})
				sdk = append(sdk, run)
				return err
			},
			func() error {
				ir, err := in.round(ctx, r)
				if err != nil {
					return err
				}
				run, err := b.measureConsume(ctx, durable, func(done func()) (func(), error) {
					return b.inboxConsume(ctx, durable, ir, done)
				})
				inbox = append(inbox, run)
				return err
			},
		}
		for i := range steps {
			if err := steps[(r+i)%len(steps)](); err != nil {
				return err
			}
		}
		if n, err := in.applied(ctx, r); err != nil {
			return err
		} else if n != b.consumeN {
			return fmt.Errorf("the inbox applied %d events, want %d", n, b.consumeN)
		}
		ratios = append(ratios, sdk[r].rate/raw[r].rate)
		fmt.Fprintf(b.log, "  round %d: raw %.0f/s (%.1f us cpu, %.1f allocs), sdk %.0f/s (%.1f us, %.1f allocs), inbox %.0f/s (%.1f us, %.1f allocs), ratio %.3f\n",
			r+1, raw[r].rate, raw[r].cpu, raw[r].allocs, sdk[r].rate, sdk[r].cpu, sdk[r].allocs,
			inbox[r].rate, inbox[r].cpu, inbox[r].allocs, ratios[r])
	}
	rate := func(r consumeRun) float64 { return r.rate }
	cpu := func(r consumeRun) float64 { return r.cpu }
	allocs := func(r consumeRun) float64 { return r.allocs }
	b.printf("consume_events", "%d", b.consumeN)
	b.printf("raw_consume_per_s", "%.0f", raw.median(rate))
	b.printf("sdk_consume_per_s", "%.0f", sdk.median(rate))
	b.printf("consume_ratio", "%.3f", median(ratios))
	b.printf("raw_consume_cpu_us", "%.1f", raw.median(cpu))
	b.printf("sdk_consume_cpu_us", "%.1f", sdk.median(cpu))
	b.printf("raw_allocs_per_consume", "%.1f", raw.median(allocs))
	b.printf("sdk_allocs_per_consume", "%.1f", sdk.median(allocs))
	b.printf("inbox_consume_per_s", "%.0f", inbox.median(rate))
	b.printf("inbox_consume_cpu_us", "%.1f", inbox.median(cpu))
	b.printf("inbox_allocs_per_consume", "%.1f", inbox.median(allocs))
	return nil
}

// measureConsume deletes the durable name (so that the consumer about to
// start creates it afresh and reads from the stream's start), then times
// start from its call until done has been called consumeN times; the
// returned stop function is called after the clock stops. It then checks
// that the durable acknowledged every message and deletes it.
func (b *bench) measureConsume(ctx context.Context, name string, start func(done func()) (stop func(), err error)) (consumeRun, error) {
	if err := b.js.DeleteConsumer(ctx, events.Catalog.Stream.Name, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return consumeRun{}, err
	}
	var count atomic.Int64
	all := make(chan struct{})
	done := func() {
		if count.Add(1) == int64(b.consumeN) {
			close(all)
		}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t, c := time.Now(), cpuTime()
	stop, err := start(done)
	if err != nil {
		return consumeRun{}, err
	}
	timeout := time.NewTimer(30*time.Second + time.Duration(b.consumeN)*time.Millisecond)
	defer timeout.Stop()
	select {
	case <-all:
	case <-timeout.C:
		err = fmt.Errorf("consumer %s: %d of %d events after %v", name, count.Load(), b.consumeN, time.Since(t).Round(time.Second))
	case <-ctx.Done():
		err = ctx.Err()
	}
	elapsed, used := time.Since(t), cpuTime()-c
	runtime.ReadMemStats(&after)
	stop()
	if err != nil {
		return consumeRun{}, err
	}
	if err := b.waitAcked(ctx, name, uint64(b.consumeN)); err != nil {
		return consumeRun{}, err
	}
	if err := b.js.DeleteConsumer(ctx, events.Catalog.Stream.Name, name); err != nil {
		return consumeRun{}, err
	}
	n := float64(b.consumeN)
	return consumeRun{
		rate:   n / elapsed.Seconds(),
		cpu:    float64(used.Nanoseconds()) / 1000 / n,
		allocs: float64(after.Mallocs-before.Mallocs) / n,
	}, nil
}

// waitAcked waits until the durable name has acknowledged n messages.
func (b *bench) waitAcked(ctx context.Context, name string, n uint64) error {
	cons, err := b.js.Consumer(ctx, events.Catalog.Stream.Name, name)
	if err != nil {
		return err
	}
	var floor uint64
	err = poll(ctx, 10*time.Second, func() bool {
		info, err := cons.Info(ctx)
		if err == nil {
			floor = info.AckFloor.Consumer
		}
		return err == nil && floor >= n
	})
	if err != nil {
		return fmt.Errorf("consumer %s acknowledged %d of %d messages: %w", name, floor, n, err)
	}
	return nil
}

// rawConsume creates the durable of cfg and consumes it with nats.go's
// Consume (default pull options), acknowledging each message.
func (b *bench) rawConsume(ctx context.Context, cfg jetstream.ConsumerConfig, done func()) (func(), error) {
	cons, err := b.js.CreateConsumer(ctx, events.Catalog.Stream.Name, cfg)
	if err != nil {
		return nil, err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if m.Ack() == nil {
			done()
		}
	})
	if err != nil {
		return nil, err
	}
	return cc.Stop, nil
}

// ddmrpDurable returns the name and configuration of the ddmrp service's
// durable, which the raw consumers copy (filter, ack wait, max deliver,
// ack policy) under another name.
func (b *bench) ddmrpDurable(ctx context.Context) (string, jetstream.ConsumerConfig, error) {
	durable := spec.ConsumerName(events.ServiceDDMRP)
	cons, err := b.js.Consumer(ctx, events.Catalog.Stream.Name, durable)
	if err != nil {
		return "", jetstream.ConsumerConfig{}, fmt.Errorf("the ddmrp durable: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return "", jetstream.ConsumerConfig{}, err
	}
	return durable, info.Config, nil
}

// sdkConsume starts the generated ddmrp consumer with h for
// sales_order.shipped, with opts (none: the defaults), and checks that it
// pulls from durable.
func (b *bench) sdkConsume(ctx context.Context, durable string, h bus.Handler[events.SalesOrderShipped], opts ...bus.ConsumerOption) (func(), error) {
	sub, err := events.ConsumeDDMRP(ctx, b.conn, events.DDMRPHandlers{SalesOrderShipped: h}, opts...)
	if err != nil {
		return nil, err
	}
	if names := sub.Consumers(); len(names) != 1 || names[0] != durable {
		_ = sub.Stop(ctx)
		return nil, fmt.Errorf("the ddmrp consumer pulls from %q, want [%s]", names, durable)
	}
	return func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = sub.Stop(c)
	}, nil
}

// catalogExample returns the first example of subject in the catalog
// under dir, encoded as JSON.
func catalogExample(dir, subject string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no catalog in %s", dir)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Events []struct {
				Subject  string `yaml:"subject"`
				Examples []any  `yaml:"examples"`
			} `yaml:"events"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, e := range doc.Events {
			if e.Subject == subject && len(e.Examples) > 0 {
				return json.Marshal(e.Examples[0])
			}
		}
	}
	return nil, fmt.Errorf("no example of %s in %s", subject, dir)
}
