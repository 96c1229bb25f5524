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
	mu    sync.Mutex
	msgs  []jetstream.Msg // nil while no handler runs
	one   [1]jetstream.Msg
	gen   uint64 // counts begin calls: keepAlive's clock, without time.Now per message
	seen  uint64 // gen at keepAlive's last look
	ticks int    // keepAlive's looks since the slot's handlers began or last sent InProgress
}

// begin marks msg's handler as running.
func (h *handlerSlot) begin(msg jetstream.Msg) {
	h.mu.Lock()
	h.one[0] = msg
	h.msgs = h.one[:]
	h.gen++
	h.mu.Unlock()
}

// beginGroup marks the handlers of msgs as running; msgs must not change
// until end.
func (h *handlerSlot) beginGroup(msgs []jetstream.Msg) {
	h.mu.Lock()
	h.msgs = msgs
	h.gen++
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
// have run, since they began or since their last InProgress, for two of
// its looks or more; it looks a quarter AckWait apart, so a handler that
// began just after a look hears its first InProgress after at most three
// quarters of AckWait, and every half AckWait after that. One ticker
// serves the subscription; it ends when done is closed, and then closes
// s.done.
func (s *Subscription) keepAlive(done <-chan struct{}) {
	defer close(s.done)
	t := time.NewTicker(max(s.opts.ackWait/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			for i := range s.slots {
				s.slots[i].progress(s)
			}
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
		// quarter AckWait ago.
		h.seen, h.ticks = h.gen, 1
		return
	}
	if h.ticks++; h.ticks < 3 {
		return
	}
	h.ticks = 1
	for _, msg := range h.msgs {
		if err := msg.InProgress(); err != nil {
			s.report(fmt.Errorf("%w: in progress %s: %w", ErrAck, msg.Subject(), err))
		}
	}
}
