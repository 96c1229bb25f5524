package bus

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// deliveryQueue holds the messages the durables' callbacks received and no
// worker took yet, in the order they arrived, at most its capacity: a
// callback waits for room, which holds back nats.go's next pull (it
// counts a message as taken once the callback returns). It is a ring
// under one mutex rather than a channel so that a worker can take several
// buffered messages at once (WithHandlerScope) and so that halt can give
// back what it holds.
type deliveryQueue struct {
	mu       sync.Mutex
	nonEmpty sync.Cond // workers wait on it
	nonFull  sync.Cond // callbacks wait on it
	buf      []jetstream.Msg
	looks    []int // per entry of buf: keepAlive's looks since it was queued or last sent InProgress
	head, n  int
	halted   bool
	// Waiters, so that push and take signal only when someone waits.
	takers, pushers int
}

func newDeliveryQueue(capacity int) *deliveryQueue {
	q := &deliveryQueue{buf: make([]jetstream.Msg, capacity), looks: make([]int, capacity)}
	q.nonEmpty.L = &q.mu
	q.nonFull.L = &q.mu
	return q
}

// push appends msg, waiting for room; it returns false, keeping nothing,
// once the queue was halted.
func (q *deliveryQueue) push(msg jetstream.Msg) bool {
	q.mu.Lock()
	for q.n == len(q.buf) && !q.halted {
		q.pushers++
		q.nonFull.Wait()
		q.pushers--
	}
	if q.halted {
		q.mu.Unlock()
		return false
	}
	i := (q.head + q.n) % len(q.buf)
	q.buf[i], q.looks[i] = msg, 0
	q.n++
	if q.takers > 0 {
		q.nonEmpty.Signal()
	}
	q.mu.Unlock()
	return true
}

// take waits for a message and appends to dst the oldest one and up to
// most-1 more of those already queued, in order; waited is the most
// keepAlive looks any of them had without an InProgress, for the handler
// slot to go on counting from. It returns false, with dst as it was, once
// the queue was halted.
func (q *deliveryQueue) take(dst []jetstream.Msg, most int) (_ []jetstream.Msg, waited int, ok bool) {
	q.mu.Lock()
	for q.n == 0 && !q.halted {
		q.takers++
		q.nonEmpty.Wait()
		q.takers--
	}
	if q.halted {
		q.mu.Unlock()
		return dst, 0, false
	}
	k := min(most, q.n)
	for range k {
		dst = append(dst, q.buf[q.head])
		waited = max(waited, q.looks[q.head])
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
	}
	q.n -= k
	if q.pushers > 0 {
		q.nonFull.Broadcast()
	}
	q.mu.Unlock()
	return dst, waited, true
}

// progress counts one look of keepAlive for each queued message and
// appends to due those that reached keepAliveLooks without an
// InProgress, counting them afresh: a message that waits behind a slow
// handler (or group) is kept alive as a running one is.
func (q *deliveryQueue) progress(due []jetstream.Msg) []jetstream.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k := range q.n {
		i := (q.head + k) % len(q.buf)
		if q.looks[i]++; q.looks[i] >= keepAliveLooks {
			q.looks[i] = 1
			due = append(due, q.buf[i])
		}
	}
	return due
}

// halt ends the queue: waiting and later pushes and takes fail. It
// returns the messages still queued, oldest first.
func (q *deliveryQueue) halt() []jetstream.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.halted = true
	left := make([]jetstream.Msg, 0, q.n)
	for ; q.n > 0; q.n-- {
		left = append(left, q.buf[q.head])
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
	}
	q.nonEmpty.Broadcast()
	q.nonFull.Broadcast()
	return left
}

// len is how many messages are queued.
func (q *deliveryQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
