package backoff_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/internal/backoff"
)

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func TestNominalDoublesUpToTheCap(t *testing.T) {
	p := backoff.Policy{First: 50 * time.Millisecond, Max: 2 * time.Second}
	want := []time.Duration{50, 100, 200, 400, 800, 1600, 2000, 2000}
	for n, w := range want {
		assert.Equal(t, w*time.Millisecond, p.Nominal(n), "retry %d", n)
	}
	for _, n := range []int{62, 63, 64, 1000, math.MaxInt} {
		assert.Equal(t, 2*time.Second, p.Nominal(n), "retry %d does not overflow past the cap", n)
	}
	assert.Equal(t, 50*time.Millisecond, p.Nominal(-3), "a negative retry is the first")

	// A cap below the first wait keeps the first wait and stops doubling.
	low := backoff.Policy{First: time.Second, Max: 10 * time.Millisecond}
	assert.Equal(t, time.Second, low.Cap())
	assert.Equal(t, time.Second, low.Nominal(0))
	assert.Equal(t, time.Second, low.Nominal(40))

	// A huge first wait with no cap of its own does not overflow either.
	huge := backoff.Policy{First: math.MaxInt64 / 3}
	assert.Equal(t, time.Duration(math.MaxInt64/3), huge.Nominal(5))
}

func TestDelayStaysBetweenHalfTheNominalWaitAndTheCap(t *testing.T) {
	p := backoff.Policy{First: 20 * time.Millisecond, Max: 500 * time.Millisecond, Rand: seeded(1)}
	for n := range 40 {
		nominal := p.Nominal(n)
		for range 500 {
			d := p.Delay(n)
			require.GreaterOrEqual(t, d, nominal/2, "retry %d: below the floor", n)
			require.LessOrEqual(t, d, nominal, "retry %d: above the nominal wait", n)
			require.LessOrEqual(t, d, 500*time.Millisecond, "retry %d: above the cap", n)
		}
	}
	// The global source keeps the same bounds.
	p.Rand = nil
	for range 1000 {
		d := p.Delay(100)
		require.GreaterOrEqual(t, d, 250*time.Millisecond)
		require.LessOrEqual(t, d, 500*time.Millisecond)
	}
}

func TestDelaySpreadsOverTheUpperHalf(t *testing.T) {
	p := backoff.Policy{First: time.Second, Max: time.Second, Rand: seeded(2)}
	const draws, buckets = 10000, 10
	var counts [buckets]int
	distinct := map[time.Duration]bool{}
	for range draws {
		d := p.Delay(0)
		distinct[d] = true
		// [500ms, 1s] in ten buckets of 50ms.
		counts[min(int((d-500*time.Millisecond)/(50*time.Millisecond)), buckets-1)]++
	}
	assert.Greater(t, len(distinct), draws*9/10, "waits hardly repeat")
	for i, c := range counts {
		// A uniform draw puts 1000 in each; 800 is more than six standard
		// deviations away.
		assert.Greater(t, c, 800, "bucket %d of [500ms, 1s] has %d of %d draws", i, c, draws)
	}
}

func TestDelayIsDeterministicWithASeededSource(t *testing.T) {
	a := backoff.Policy{First: 10 * time.Millisecond, Max: time.Second, Rand: seeded(7)}
	b := backoff.Policy{First: 10 * time.Millisecond, Max: time.Second, Rand: seeded(7)}
	for n := range 20 {
		assert.Equal(t, a.Delay(n), b.Delay(n), "retry %d", n)
	}
}

func TestZeroAndNegativeWaits(t *testing.T) {
	var zero backoff.Policy
	assert.Zero(t, zero.Delay(0))
	assert.Zero(t, zero.Delay(10))
	assert.Zero(t, backoff.Policy{First: -time.Second, Max: -time.Second}.Delay(3))
	// No first wait: the cap alone does not invent one.
	assert.Zero(t, backoff.Policy{Max: time.Second}.Delay(5))
	// The smallest wait draws from {0, 1ns}.
	one := backoff.Policy{First: 1, Max: 1, Rand: seeded(3)}
	for range 100 {
		d := one.Delay(0)
		assert.True(t, d == 0 || d == 1, "got %v", d)
	}
}

func TestBackoffWalksAndResets(t *testing.T) {
	b := backoff.New(backoff.Policy{First: 100 * time.Millisecond, Max: 5 * time.Second, Rand: seeded(4)})
	wantNominal := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	for i, nominal := range wantNominal {
		d := b.Next()
		nominal *= time.Millisecond
		require.GreaterOrEqual(t, d, nominal/2, "wait %d", i)
		require.LessOrEqual(t, d, nominal, "wait %d", i)
	}
	// Far past the cap it stays at the cap, however long the loop runs.
	for range 10000 {
		d := b.Next()
		require.GreaterOrEqual(t, d, 2500*time.Millisecond)
		require.LessOrEqual(t, d, 5*time.Second)
	}
	b.Reset()
	d := b.Next()
	assert.GreaterOrEqual(t, d, 50*time.Millisecond, "after Reset the first wait again")
	assert.LessOrEqual(t, d, 100*time.Millisecond, "after Reset the first wait again")
	d = b.Next()
	assert.GreaterOrEqual(t, d, 100*time.Millisecond, "then the second")
	assert.LessOrEqual(t, d, 200*time.Millisecond, "then the second")
}
