package bus

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRetryWaitDoublesUpToTheCapWithJitter checks WithRetry's waits: the
// first its backoff at most and half of it at least, doubling, and never
// above maxRetryWait however many attempts are allowed (an uncapped
// doubling of 50ms reaches hours by the 20th attempt and overflows by the
// 40th).
func TestRetryWaitDoublesUpToTheCapWithJitter(t *testing.T) {
	p := &Publisher{opts: defaultPublisherOptions()}
	o := p.opts
	require.NoError(t, WithRetry(100, 50*time.Millisecond)(&o))
	p.opts = o
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 100; attempt++ {
		nominal := min(50*time.Millisecond<<min(attempt-1, 20), maxRetryWait)
		for range 50 {
			d := p.retryWait(attempt)
			require.GreaterOrEqual(t, d, nominal/2, "after attempt %d", attempt)
			require.LessOrEqual(t, d, nominal, "after attempt %d", attempt)
			seen[d] = true
		}
	}
	require.Greater(t, len(seen), 1000, "the waits are spread, not fixed")

	// A first wait above the cap is kept, not doubled.
	require.NoError(t, WithRetry(5, 10*time.Second)(&o))
	p.opts = o
	for attempt := 1; attempt <= 5; attempt++ {
		d := p.retryWait(attempt)
		require.GreaterOrEqual(t, d, 5*time.Second)
		require.LessOrEqual(t, d, 10*time.Second)
	}

	// No wait stays no wait.
	require.NoError(t, WithRetry(5, 0)(&o))
	p.opts = o
	require.Zero(t, p.retryWait(3))
}

// TestNoResponderWaitKeepsNatsGosWait checks the waits after
// no_responders: at least jetstream.DefaultPubRetryWait, at most twice it,
// and spread.
func TestNoResponderWaitKeepsNatsGosWait(t *testing.T) {
	seen := map[time.Duration]bool{}
	for retry := range noResponderRetries * 100 {
		d := noResponderWait.Delay(retry)
		require.GreaterOrEqual(t, d, noResponderWaitTime)
		require.LessOrEqual(t, d, 2*noResponderWaitTime)
		seen[d] = true
	}
	require.Greater(t, len(seen), noResponderRetries*90)
}
