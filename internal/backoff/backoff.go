// Package backoff computes the waits of the module's retry loops (the
// SDK's publisher, subscriber and outbox relay, and the fault suite): an
// exponential backoff with a cap and "equal" jitter.
//
// The nominal wait before retry n (0 for the first retry) is First·2^n,
// capped at Max. The wait itself is drawn uniformly from the upper half of
// the nominal one, [nominal/2, nominal]:
//
//   - never above the cap, so a documented longest wait (the outbox's
//     WithBackoff limit, which enters its duplicates-window formula) stays
//     a hard bound;
//   - never below half the nominal wait, so a loop still backs off: full
//     jitter, [0, nominal] as in AWS's "Exponential Backoff And Jitter",
//     can draw a wait of almost nothing and hammer a server that is
//     recovering, which is what a floor prevents;
//   - spread over half the nominal wait, so that clients that failed
//     together (every publisher of a service when NATS restarts) do not
//     retry together. gRPC's connection backoff spreads by ±20% around the
//     nominal wait and nats.go adds a fixed jitter on top of its reconnect
//     wait; both can exceed the cap, which equal jitter cannot.
//
// Randomness comes from math/rand/v2's global source, which is safe for
// concurrent use, unless a Policy carries its own *rand.Rand (tests make
// the draws deterministic with rand.New(rand.NewPCG(seed1, seed2))).
package backoff

import (
	"math/bits"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff with a cap and equal jitter. Its zero
// value waits 0 before every retry.
type Policy struct {
	// First is the nominal wait before the first retry; a negative First
	// counts as 0.
	First time.Duration
	// Max caps the nominal wait. A Max below First counts as First: the
	// first wait is never shortened by the cap, only the doubling stopped.
	Max time.Duration
	// Rand draws the jitter; nil uses math/rand/v2's global source. A
	// *rand.Rand is not safe for concurrent use: a Policy that carries
	// one must not be used by two goroutines at once.
	Rand *rand.Rand
}

// Cap returns the longest nominal wait: Max, or First when Max is lower.
func (p Policy) Cap() time.Duration {
	return max(p.First, p.Max, 0)
}

// Nominal returns the wait before retry n without jitter:
// min(First·2^n, Cap()). A negative n counts as 0.
func (p Policy) Nominal(n int) time.Duration {
	first, limit := max(p.First, 0), p.Cap()
	if first == 0 {
		return 0
	}
	n = max(n, 0)
	// first<<n fits in an int64 while first's bit length plus n stays
	// below 64; past that it is above any limit, so check before shifting
	// (n first, so that the sum cannot overflow).
	if n > 62 || bits.Len64(uint64(first))+n > 63 || first<<n > limit {
		return limit
	}
	return first << n
}

// Delay returns the wait before retry n (0 for the first retry): a value
// drawn uniformly from [Nominal(n)/2, Nominal(n)].
func (p Policy) Delay(n int) time.Duration {
	d := p.Nominal(n)
	if d <= 0 {
		return 0
	}
	low := d / 2
	span := int64(d-low) + 1 // low..d inclusive
	if p.Rand != nil {
		return low + time.Duration(p.Rand.Int64N(span))
	}
	return low + time.Duration(rand.Int64N(span))
}

// Backoff walks a Policy for one loop: Next returns the wait before each
// successive retry, Reset starts again from the first after a success. It
// is not safe for concurrent use.
type Backoff struct {
	Policy
	n int
}

// New returns a Backoff of p at its first retry.
func New(p Policy) *Backoff { return &Backoff{Policy: p} }

// Next returns the wait before the next retry and counts it.
func (b *Backoff) Next() time.Duration {
	d := b.Delay(b.n)
	if b.Nominal(b.n) < b.Cap() {
		b.n++ // past the cap every retry has the same nominal wait
	}
	return d
}

// Reset makes the next wait the first one again.
func (b *Backoff) Reset() { b.n = 0 }
