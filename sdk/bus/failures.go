package bus

import (
	"sync"
	"sync/atomic"
	"time"
)

// failureCounts counts, per message (its stream sequence), how often its
// handler failed in this process. A message is dead-lettered after
// MaxDeliver failures, counted here rather than by the server's delivery
// count, because that count also includes the deliveries the message
// spent waiting for a consumer that knows its version. A message whose
// handler fails on another instance, or across a restart, starts again
// from zero here; the server's delivery count still bounds it
// (MaxDeliver + spec.VersionWaitDeliveries).
type failureCounts struct {
	// size is len(m): every message asks get and forget, and almost
	// always nothing failed, so they answer without the lock then.
	size atomic.Int32

	mu sync.Mutex
	m  map[uint64]failureCount
}

type failureCount struct {
	n    int
	last time.Time
}

// staleFailure is how long a count is kept without a new failure: longer
// than any redelivery delay (DefaultNakDelay tops at 10 s) of a message
// still being retried here.
const staleFailure = time.Hour

// add records one more failure of seq and returns the count.
func (f *failureCounts) add(seq uint64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.m == nil {
		f.m = make(map[uint64]failureCount)
	}
	if len(f.m) >= 4096 {
		// Messages retried elsewhere, or acknowledged after a redelivery
		// to another instance, leave their count behind.
		for k, c := range f.m {
			if now.Sub(c.last) > staleFailure {
				delete(f.m, k)
			}
		}
	}
	c := f.m[seq]
	c.n++
	c.last = now
	f.m[seq] = c
	f.size.Store(int32(len(f.m)))
	return c.n
}

// get returns the failures of seq counted so far.
func (f *failureCounts) get(seq uint64) int {
	if f.size.Load() == 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[seq].n
}

// forget drops the count of seq, once its message reached an outcome.
func (f *failureCounts) forget(seq uint64) {
	if f.size.Load() == 0 {
		return
	}
	f.mu.Lock()
	delete(f.m, seq)
	f.size.Store(int32(len(f.m)))
	f.mu.Unlock()
}
