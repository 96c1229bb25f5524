package bus

import (
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// handlerSlot is what a worker's handlers are running on: one message, or
// the group of a HandlerScope, none while it waits. keepAlive reads it.
type handlerSlot struct {
	mu     sync.Mutex
	msgs   []jetstream.Msg // nil while no handler runs
	one    [1]jetstream.Msg
	gen    uint64 // counts begin calls: keepAlive's clock, without time.Now per message
	seen   uint64 // gen at keepAlive's last look
	ticks  int    // keepAlive's looks since the slot's handlers began or last sent InProgress
	waited int    // looks the running handlers' messages had while queued (deliveryQueue.take)

	nextWaited int // the worker's own: waited of the messages it took, until begin
}

// keepAliveLooks is how many of keepAlive's looks, a quarter AckWait
// apart, a message goes without an InProgress: at most three quarters of
// AckWait from its arrival, then every half AckWait.
const keepAliveLooks = 3

// queued tells the slot that the messages of its next handlers waited
// looks of keepAlive in the queue since their last InProgress. Only the
// slot's worker calls it, before begin, which hands it on under the lock.
func (h *handlerSlot) queued(looks int) { h.nextWaited = looks }

// begin marks msg's handler as running.
func (h *handlerSlot) begin(msg jetstream.Msg) {
	h.mu.Lock()
	h.one[0] = msg
	h.msgs = h.one[:]
	h.gen++
	h.waited = h.nextWaited
	h.mu.Unlock()
}

// beginGroup marks the handlers of msgs as running; msgs must not change
// until end.
func (h *handlerSlot) beginGroup(msgs []jetstream.Msg) {
	h.mu.Lock()
	h.msgs = msgs
	h.gen++
	h.waited = h.nextWaited
	h.mu.Unlock()
}

// end returns once no InProgress is being sent for the slot's messages.
func (h *handlerSlot) end() {
	h.mu.Lock()
	h.msgs = nil
	h.one[0] = nil
	h.mu.Unlock()
}

// keepAlive sends InProgress for the messages of every slot whose handlers
// have run, and of every message queued for a worker, for keepAliveLooks
// of its looks without one (counted from a message's arrival in the
// queue, across its wait there and its handler's run); it looks a quarter
// AckWait apart, so a message hears its first InProgress after at most
// three quarters of AckWait, and every half AckWait after that. One ticker
// serves the subscription; it ends when done is closed, and then closes
// s.done.
func (s *Subscription) keepAlive(done <-chan struct{}) {
	defer close(s.done)
	t := time.NewTicker(max(s.opts.ackWait/4, time.Millisecond))
	defer t.Stop()
	var due []jetstream.Msg // queued messages to keep alive at a look
	for {
		select {
		case <-done:
			return
		case <-t.C:
			for i := range s.slots {
				s.slots[i].progress(s)
			}
			due = s.queue.progress(due[:0])
			for _, msg := range due {
				if err := msg.InProgress(); err != nil {
					s.report(fmt.Errorf("%w: in progress %s: %w", ErrAck, msg.Subject(), err))
				}
			}
			clear(due)
		}
	}
}

func (h *handlerSlot) progress(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.msgs == nil {
		return
	}
	if h.gen != h.seen {
		// Other handlers than at the last look: they began less than a
		// quarter AckWait ago, their messages queued for h.waited looks.
		h.seen, h.ticks, h.waited = h.gen, h.waited, 0
	}
	if h.ticks++; h.ticks < keepAliveLooks {
		return
	}
	h.ticks = 1
	for _, msg := range h.msgs {
		if err := msg.InProgress(); err != nil {
			s.report(fmt.Errorf("%w: in progress %s: %w", ErrAck, msg.Subject(), err))
		}
	}
}
