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
	head, n  int
	halted   bool
	// Waiters, so that push and take signal only when someone waits.
	takers, pushers int
}

func newDeliveryQueue(capacity int) *deliveryQueue {
	q := &deliveryQueue{buf: make([]jetstream.Msg, capacity)}
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
	q.buf[(q.head+q.n)%len(q.buf)] = msg
	q.n++
	if q.takers > 0 {
		q.nonEmpty.Signal()
	}
	q.mu.Unlock()
	return true
}

// take waits for a message and appends to dst the oldest one and up to
// most-1 more of those already queued, in order. It returns false, with
// dst as it was, once the queue was halted.
func (q *deliveryQueue) take(dst []jetstream.Msg, most int) ([]jetstream.Msg, bool) {
	q.mu.Lock()
	for q.n == 0 && !q.halted {
		q.takers++
		q.nonEmpty.Wait()
		q.takers--
	}
	if q.halted {
		q.mu.Unlock()
		return dst, false
	}
	k := min(most, q.n)
	for range k {
		dst = append(dst, q.buf[q.head])
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
	}
	q.n -= k
	if q.pushers > 0 {
		q.nonFull.Broadcast()
	}
	q.mu.Unlock()
	return dst, true
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
