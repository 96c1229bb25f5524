package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

// runCluster: a three-node JetStream cluster on 127.0.0.1 (three
// in-process servers joined by routes, each with its own store) carries
// the catalog's stream with three replicas. Publishers (each a connection
// knowing all three URLs) and a consumer run under load while the
// stream's leader is killed; once it is back and current, a follower is
// killed. Publishing and consuming go on through both, and every event
// arrives once. (A node comes back before the next is killed: with two
// of three nodes down a replicated stream has no quorum and stops, by
// design.)
func runCluster(ctx context.Context, e *env, r *Result) error {
	minEvents := e.size(6000, 300)
	publishers := e.size(10, 4)
	rate := e.size(600, 100) // events a second, all publishers together

	dirs := make([]string, 3)
	for i := range dirs {
		dirs[i] = filepath.Join(e.dir, fmt.Sprintf("n%d", i+1))
	}
	c, err := newCluster(dirs)
	if err != nil {
		return err
	}
	defer c.Shutdown()
	if err := pollFor(ctx, 30*time.Second, "the cluster's meta leader", func() (bool, error) { return c.WaitMetaLeader(ctx) == nil, nil }); err != nil {
		return err
	}
	cat := *events.Catalog
	cat.Stream.Replicas = 3
	admin, err := connect(c.URLs(), "chaos-admin")
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := pollFor(ctx, 30*time.Second, "the replicated stream", func() (bool, error) {
		err := bus.EnsureTopology(ctx, admin, &cat)
		return err == nil, err
	}); err != nil {
		return err
	}
	rd, err := newReader(c.URLs())
	if err != nil {
		return err
	}
	defer rd.Close()
	streamInfo := func() (*jetstream.StreamInfo, error) {
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := rd.js.Stream(ictx, cat.Stream.Name)
		if err != nil {
			return nil, err
		}
		return s.Info(ictx)
	}
	info, err := streamInfo()
	if err != nil {
		return err
	}
	r.Add("stream_replicas", info.Config.Replicas)

	led, err := openLedger(ctx, filepath.Join(e.dir, "ai-hub.db"), events.ServiceAIHub)
	if err != nil {
		return err
	}
	defer led.Close()
	cconn, err := connect(c.URLs(), "chaos-ai-hub")
	if err != nil {
		return err
	}
	defer cconn.Close()
	errs := &errorCounter{log: e.log}
	sub, err := consumeStock(ctx, cconn, led, errs, nil)
	if err != nil {
		return err
	}
	defer stopSub(sub)

	pubs := make([]*bus.Publisher, publishers)
	for i := range pubs {
		conn, err := connect(c.URLs(), fmt.Sprintf("chaos-publisher-%d", i))
		if err != nil {
			return err
		}
		defer conn.Close()
		if pubs[i], err = bus.NewPublisher(conn, &cat, events.ServiceExecution,
			bus.WithRetry(5, 50*time.Millisecond), bus.WithPublishTimeout(2*time.Second)); err != nil {
			return err
		}
	}

	pctx, cancel := context.WithTimeout(ctx, e.dur(3*time.Minute, 90*time.Second))
	defer cancel()
	var acked, retries, dupAcks atomic.Int64
	var faultsDone atomic.Bool
	var mu sync.Mutex
	var ackedIDs []uuid.UUID

	// The faults, each under load: publishing must go on (more events
	// acknowledged) and so must consuming (more applied) while a node is
	// down.
	progress := func(what string) error {
		a0, p0 := acked.Load(), led.Applied()
		step := int64(max(minEvents/10, 20))
		return poll(pctx, what, func() (bool, error) {
			return acked.Load() >= a0+step && led.Applied() >= p0+int(step), nil
		})
	}
	allCurrent := func() (bool, error) {
		info, err := streamInfo()
		if err != nil || info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
			return false, err
		}
		for _, p := range info.Cluster.Replicas {
			if !p.Current || p.Offline || p.Lag > 0 {
				return false, nil
			}
		}
		return true, nil
	}
	faults := make(chan error, 1)
	go func() {
		defer faultsDone.Store(true)
		faults <- func() error {
			if err := poll(pctx, "a quarter of the events", func() (bool, error) { return acked.Load() >= int64(minEvents/4), nil }); err != nil {
				return err
			}
			info, err := streamInfo()
			if err != nil {
				return err
			}
			leader := info.Cluster.Leader
			node := c.Node(leader)
			if node == nil {
				return fmt.Errorf("stream leader %q is no node of the cluster", leader)
			}
			e.log.Info("killing the stream leader", "node", leader, "acked", acked.Load())
			killed := time.Now()
			node.Shutdown()
			if err := poll(pctx, "a new stream leader", func() (bool, error) {
				info, err := streamInfo()
				return err == nil && info.Cluster != nil && info.Cluster.Leader != "" && info.Cluster.Leader != leader, nil
			}); err != nil {
				return err
			}
			r.Add("leader_killed", leader)
			r.Add("leader_failover_ms", time.Since(killed))
			if err := progress("progress without the old leader"); err != nil {
				return err
			}
			if err := node.Start(); err != nil {
				return err
			}
			if err := poll(pctx, "every replica current after the leader's return", allCurrent); err != nil {
				return err
			}
			if err := poll(pctx, "half of the events", func() (bool, error) { return acked.Load() >= int64(minEvents/2), nil }); err != nil {
				return err
			}
			info, err = streamInfo()
			if err != nil {
				return err
			}
			// A follower other than the node killed first, if it can be.
			follower := info.Cluster.Replicas[0].Name
			for _, p := range info.Cluster.Replicas {
				if p.Name != leader {
					follower = p.Name
				}
			}
			node = c.Node(follower)
			if node == nil {
				return fmt.Errorf("follower %q is no node of the cluster", follower)
			}
			e.log.Info("killing a follower", "node", follower, "leader", info.Cluster.Leader, "acked", acked.Load())
			node.Shutdown()
			r.Add("follower_killed", follower)
			if err := progress("progress without the follower"); err != nil {
				return err
			}
			if err := node.Start(); err != nil {
				return err
			}
			return poll(pctx, "every replica current after the follower's return", allCurrent)
		}()
	}()

	lim := newLimiter(pctx, rate)
	start := time.Now()
	var wg sync.WaitGroup
	pubErrs := make([]error, publishers)
	product, location := uuid.New(), uuid.New()
	for w := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				if faultsDone.Load() && acked.Load() >= int64(minEvents) {
					return
				}
				if !lim.take(pctx) {
					pubErrs[w] = fmt.Errorf("publisher %d: %w", w, pctx.Err())
					return
				}
				id := uuid.New()
				ack, err := publishUntilAcked(pctx, pubs[w], events.SubjectExecutionInventoryUpdated, stockEvent(product, location, n), id, &retries)
				if err != nil {
					pubErrs[w] = fmt.Errorf("publisher %d: %w", w, err)
					return
				}
				if ack.Duplicate {
					dupAcks.Add(1)
				}
				mu.Lock()
				ackedIDs = append(ackedIDs, id)
				mu.Unlock()
				acked.Add(1)
			}
		}()
	}
	wg.Wait()
	published := time.Now()
	if errors.Join(pubErrs...) != nil {
		cancel() // the faults wait for progress that will not come
	}
	faultErr := <-faults
	e.log.Info("published", "events", acked.Load(), "in", published.Sub(start))

	total := int(acked.Load())
	drainErr := pollFor(ctx, 2*time.Minute, "the consumer to apply every event", func() (bool, error) {
		if n := led.Applied(); n < total {
			return false, fmt.Errorf("%d of %d events applied", n, total)
		}
		return consumerIdle(ctx, rd.js, cat.Stream.Name, spec.ConsumerName(events.ServiceAIHub))
	})
	r.Drain = time.Since(published)
	stopErr := stopSub(sub)

	msgs, readErr := readStreamRetry(ctx, rd.js, cat.Stream.Name)
	stored := idCounts(msgs)
	apps, appsErr := led.Applications(ctx)
	expected := idSet(ackedIDs)
	t := tallyApplications(expected, apps)
	storedTwice := 0
	for id := range expected {
		if stored[id] > 0 {
			r.Stored++
			storedTwice += stored[id] - 1
		}
	}
	r.Published = total
	r.Applied = t.applied
	r.Lost = t.lost + (total - r.Stored)
	r.DuplicatesApplied = t.duplicates
	current, _ := allCurrent()
	r.Add("nodes", len(c.nodes))
	r.Add("publishers", publishers)
	r.Add("publish_rate_target", rate)
	r.Add("publish_rate", float64(total)/published.Sub(start).Seconds())
	r.Add("publish_retries", retries.Load())
	r.Add("duplicate_acks", dupAcks.Load())
	r.Add("stored_twice", storedTwice)
	r.Add("duplicates_delivered", led.Redeliveries())
	r.Add("max_apply_gap_ms", led.MaxGap(start, published))
	r.Add("consumer_errors", errs.Count())
	r.Add("replicas_current", current)
	r.Check(storedTwice == 0, "%d events stored twice", storedTwice)
	r.Check(t.unexpected == 0, "%d applications of events never acknowledged", t.unexpected)
	r.Check(current, "the replicas did not all catch up")
	return errors.Join(errors.Join(pubErrs...), faultErr, drainErr, stopErr, readErr, appsErr)
}
