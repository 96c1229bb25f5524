package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
)

// Instructions per event are counted by valgrind's callgrind on a client
// alone: the benchmark runs its own binary under valgrind with the hidden
// first argument workerFlag, and that worker runs one workload against
// the parent's embedded server, so the server's instructions are not
// counted. Each workload runs twice, with n and with n0 events; start-up,
// connection and shutdown cost the same in both, and
// (I(n)-I(n0))/(n-n0) is what one event costs. The raw publish worker
// prepares n messages in both runs (publishing n0 of them in the second),
// so its preparation cancels out as well, as the paired rounds keep it
// off the clock. The worker runs with garbage collection off (GOGC=off):
// how far a collection's background marking gets depends on timing, and
// would swing a count by millions from run to run. What collections cost
// goes with allocations, which allocs_per_publish and the consume figures
// count.
const workerFlag = "--instructions-worker"

// The workloads a worker runs.
const (
	workRawPublish = "raw-publish" // js.PublishMsg of the SDK's envelope bytes and headers
	workSDKPublish = "sdk-publish" // the typed synchronous publish
	workRawConsume = "raw-consume" // Consume of a raw durable, each message acked
	workSDKConsume = "sdk-consume" // the generated ddmrp consumer, a handler that only counts
)

// rawInstrDurable is the durable the raw consume worker reads.
const rawInstrDurable = "bench-raw-instructions"

// instrSizes are the events of the long and the short run of each
// workload.
func (c *config) instrSizes() (n, n0 int) {
	if c.quick {
		return 800, 100
	}
	return 2000, 200
}

// instructions counts the instructions per event of raw and SDK
// synchronous publish and consume, and prints them with the ratios
// sdk/raw; where valgrind cannot run, it prints why and counts nothing.
func (b *bench) instructions(ctx context.Context) error {
	if b.quick && !slices.Contains(b.only, "instructions") {
		b.print("instructions", "skipped (--quick; --only instructions counts them)")
		return nil
	}
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		b.print("instructions", "unavailable (valgrind not found: "+err.Error()+")")
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		b.print("instructions", "unavailable (cannot find the benchmark's binary: "+err.Error()+")")
		return nil
	}
	n, n0 := b.instrSizes()
	count := func(work string, events int, prepare int) (uint64, error) {
		return b.callgrind(ctx, valgrind, self, work, events, prepare)
	}
	perEvent := func(work string, setup func() error) (float64, error) {
		var is [2]uint64
		for i, k := range []int{n, n0} {
			if setup != nil {
				if err := setup(); err != nil {
					return 0, err
				}
			}
			var err error
			if is[i], err = count(work, k, n); err != nil {
				return 0, err
			}
		}
		if is[0] <= is[1] {
			return 0, fmt.Errorf("%s: %d instructions for %d events, %d for %d", work, is[0], n, is[1], n0)
		}
		per := float64(is[0]-is[1]) / float64(n-n0)
		fmt.Fprintf(b.log, "  %s: %d instructions for %d events, %d for %d: %.0f per event\n", work, is[0], n, is[1], n0, per)
		return per, nil
	}

	// The first run tells whether valgrind works here at all.
	rawPub, err := perEvent(workRawPublish, nil)
	if errors.Is(err, errNoValgrind) {
		b.print("instructions", "unavailable ("+err.Error()+")")
		return nil
	}
	if err != nil {
		return err
	}
	sdkPub, err := perEvent(workSDKPublish, nil)
	if err != nil {
		return err
	}
	b.printf("raw_publish_instructions", "%.0f", rawPub)
	b.printf("sdk_publish_instructions", "%.0f", sdkPub)
	b.printf("publish_instructions_ratio", "%.3f", sdkPub/rawPub)

	// The consume workers read a stream of sales_order.shipped envelopes,
	// each run from its start on a fresh durable.
	if err := b.purge(ctx); err != nil {
		return err
	}
	if err := b.fillShipped(ctx, n+instrConsumeSlack); err != nil {
		return err
	}
	durable, rawConfig, err := b.ddmrpDurable(ctx)
	if err != nil {
		return err
	}
	rawConfig.Durable, rawConfig.Name = rawInstrDurable, ""
	deleteDurable := func(name string) error {
		if err := b.js.DeleteConsumer(ctx, events.Catalog.Stream.Name, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return err
		}
		return nil
	}
	rawCons, err := perEvent(workRawConsume, func() error {
		if err := deleteDurable(rawInstrDurable); err != nil {
			return err
		}
		_, err := b.js.CreateConsumer(ctx, events.Catalog.Stream.Name, rawConfig)
		return err
	})
	if err != nil {
		return err
	}
	if err := deleteDurable(rawInstrDurable); err != nil {
		return err
	}
	sdkConsume, err := perEvent(workSDKConsume, func() error { return deleteDurable(durable) })
	if err != nil {
		return err
	}
	b.printf("raw_consume_instructions", "%.0f", rawCons)
	b.printf("sdk_consume_instructions", "%.0f", sdkConsume)
	b.printf("consume_instructions_ratio", "%.3f", sdkConsume/rawCons)
	return nil
}

// instrConsumeSlack is how many events the consumed stream holds beyond
// the long run's: a consumer pulls ahead of what its handler has seen.
const instrConsumeSlack = 1000

// fillShipped publishes n sales_order.shipped events, the catalog's
// first example.
func (b *bench) fillShipped(ctx context.Context, n int) error {
	data, err := catalogExample(filepath.Join(b.root, "catalog"), events.SubjectExecutionSalesOrderShipped)
	if err != nil {
		return err
	}
	var shipped events.SalesOrderShipped
	if err := json.Unmarshal(data, &shipped); err != nil {
		return fmt.Errorf("example of %s: %w", events.SubjectExecutionSalesOrderShipped, err)
	}
	for range n {
		if _, err := b.pub.SalesOrderShippedAsync(ctx, shipped); err != nil {
			return err
		}
	}
	return b.pub.Flush(ctx)
}

// errNoValgrind: valgrind is installed but cannot run the worker.
var errNoValgrind = errors.New("valgrind cannot run the worker")

// callgrind runs the worker for work with n events under callgrind and
// returns the instructions it executed.
func (b *bench) callgrind(ctx context.Context, valgrind, self, work string, n, prepare int) (uint64, error) {
	dir := b.callgrindDir
	if dir == "" {
		dir = b.dir
	}
	out := filepath.Join(dir, fmt.Sprintf("callgrind.%s.%d", work, n))
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, valgrind, "--tool=callgrind", "--callgrind-out-file="+out,
		self, workerFlag, "--work", work, "--url", b.srv.ClientURL(), "--root", b.root,
		"--n", strconv.Itoa(n), "--prepare", strconv.Itoa(prepare))
	// One P: no idle threads spinning for work, whose instructions would
	// vary from run to run. No collections (see workerFlag). No
	// preemption signals, on which callgrind 3.19 fails an assertion.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GOGC=off", "GODEBUG=asyncpreemptoff=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if _, statErr := os.Stat(out); statErr != nil {
			return 0, fmt.Errorf("%w: %v: %s", errNoValgrind, err, lastLine(stderr.String()))
		}
		return 0, fmt.Errorf("%s worker, %d events: %v: %s", work, n, err, stderr.String())
	}
	if b.callgrindDir == "" {
		defer os.Remove(out)
	}
	return callgrindTotal(out)
}

// callgrindTotal reads the instruction total of a callgrind output file:
// its "summary:" line (or "totals:", which some versions write instead).
func callgrindTotal(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, key := range []string{"summary:", "totals:"} {
			if rest, ok := strings.CutPrefix(line, key); ok {
				fields := strings.Fields(rest)
				if len(fields) == 0 {
					continue
				}
				return strconv.ParseUint(fields[0], 10, 64)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: no summary line", path)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// runWorker is the hidden mode the parent starts under valgrind: one
// workload, n events, against the server at --url; exit code 0 once done.
func runWorker(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench "+workerFlag, flag.ContinueOnError)
	fs.SetOutput(stderr)
	work := fs.String("work", "", "the workload")
	url := fs.String("url", "", "the NATS server's URL")
	root := fs.String("root", "", "the repository's root")
	n := fs.Int("n", 0, "events")
	prepare := fs.Int("prepare", 0, "messages the raw publisher prepares, at least n")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 1 || *url == "" {
		fmt.Fprintln(stderr, "bench worker: want --url and --n >= 1")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	var err error
	switch *work {
	case workRawPublish:
		err = workerRawPublish(ctx, *url, *root, *n, max(*prepare, *n))
	case workSDKPublish:
		err = workerSDKPublish(ctx, *url, *root, *n)
	case workRawConsume:
		err = workerRawConsume(ctx, *url, *n)
	case workSDKConsume:
		err = workerSDKConsume(ctx, *url, *n)
	default:
		fmt.Fprintf(stderr, "bench worker: unknown workload %q\n", *work)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench worker %s: %v\n", *work, err)
		return 1
	}
	return 0
}

// workerPayload is the benchmark's payload: the catalog's largest
// example, a purchase_order.created.
func workerPayload(root string) (events.PurchaseOrderCreated, error) {
	var po events.PurchaseOrderCreated
	_, example, err := largestExample(filepath.Join(root, "catalog"))
	if err != nil {
		return po, err
	}
	return po, json.Unmarshal(example, &po)
}

// workerMessages prepares n raw messages, the SDK's envelope bytes and
// headers for po with fresh ids.
func workerMessages(po events.PurchaseOrderCreated, n int) ([]*nats.Msg, error) {
	data, err := json.Marshal(po)
	if err != nil {
		return nil, err
	}
	ev, _ := events.Catalog.Event(events.SubjectExecutionPurchaseOrderCreated)
	msgs := make([]*nats.Msg, n)
	now := time.Now()
	for i := range msgs {
		msgs[i] = rawMessage(ev, data, uuid.New(), now)
	}
	return msgs, nil
}

func workerRawPublish(ctx context.Context, url, root string, n, prepare int) error {
	po, err := workerPayload(root)
	if err != nil {
		return err
	}
	msgs, err := workerMessages(po, prepare)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(url, nats.Name("bench-raw-instructions"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	for _, m := range msgs[:n] {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func workerSDKPublish(ctx context.Context, url, root string, n int) error {
	po, err := workerPayload(root)
	if err != nil {
		return err
	}
	conn, err := bus.Connect(url, bus.WithName("bench-sdk-instructions"))
	if err != nil {
		return err
	}
	defer conn.Close()
	pub, err := events.NewExecutionPublisher(conn)
	if err != nil {
		return err
	}
	for range n {
		if _, err := pub.PurchaseOrderCreated(ctx, po); err != nil {
			return err
		}
	}
	return nil
}

// workerCounter closes all once n events were counted.
type workerCounter struct {
	n, seen atomic.Int64
	all     chan struct{}
}

func newWorkerCounter(n int) *workerCounter {
	c := &workerCounter{all: make(chan struct{})}
	c.n.Store(int64(n))
	return c
}

func (c *workerCounter) add() {
	if c.seen.Add(1) == c.n.Load() {
		close(c.all)
	}
}

func (c *workerCounter) wait(ctx context.Context) error {
	select {
	case <-c.all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d of %d events: %w", c.seen.Load(), c.n.Load(), ctx.Err())
	}
}

func workerRawConsume(ctx context.Context, url string, n int) error {
	nc, err := nats.Connect(url, nats.Name("bench-raw-instructions"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cons, err := js.Consumer(ctx, events.Catalog.Stream.Name, rawInstrDurable)
	if err != nil {
		return err
	}
	c := newWorkerCounter(n)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if m.Ack() == nil {
			c.add()
		}
	})
	if err != nil {
		return err
	}
	defer cc.Stop()
	return c.wait(ctx)
}

func workerSDKConsume(ctx context.Context, url string, n int) error {
	conn, err := bus.Connect(url, bus.WithName("bench-sdk-instructions"))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := newWorkerCounter(n)
	sub, err := events.ConsumeDDMRP(ctx, conn, events.DDMRPHandlers{
		SalesOrderShipped: func(context.Context, bus.Event[events.SalesOrderShipped]) error {
			c.add()
			return nil
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = sub.Stop(stopCtx)
	}()
	return c.wait(ctx)
}
