package outbox_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/giia/events/sdk/outbox"
)

// collect returns the outbox package's series read from reader, by name.
func collect(t *testing.T, reader sdkmetric.Reader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name == outbox.InstrumentationName {
			for _, m := range sm.Metrics {
				out[m.Name] = m.Data
			}
		}
	}
	return out
}

func TestMetricOptionsRefuseNil(t *testing.T) {
	db := openOutboxDB(t)
	e := newEnv(t)
	_, err := outbox.New(db, e.Publisher(t, "orders"), outbox.WithMeterProvider(nil))
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)
	_, err = outbox.NewInbox(db, outbox.WithInboxMeterProvider(nil))
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)
}

func TestOutboxBacklogAndInboxDuplicates(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	o, _ := newOutbox(t, e, db, outbox.WithMeterProvider(mp))

	tx, err := db.Begin()
	require.NoError(t, err)
	for range 3 {
		_, err = o.Add(ctx(t), tx, e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	time.Sleep(20 * time.Millisecond) // the oldest row's age is then past 0

	gauges := func() (int64, float64) {
		got := collect(t, reader)
		p, ok := got[outbox.MetricOutboxPending].(metricdata.Gauge[int64])
		require.True(t, ok, "pending gauge: %v", got)
		a, ok := got[outbox.MetricOutboxOldestAge].(metricdata.Gauge[float64])
		require.True(t, ok, "oldest age gauge: %v", got)
		require.Len(t, p.DataPoints, 1)
		require.Len(t, a.DataPoints, 1)
		v, _ := p.DataPoints[0].Attributes.Value(outbox.AttrService)
		assert.Equal(t, "orders", v.AsString())
		return p.DataPoints[0].Value, a.DataPoints[0].Value
	}
	n, age := gauges()
	assert.Equal(t, int64(3), n, "three rows wait, the relay does not run")
	assert.GreaterOrEqual(t, age, 0.02)
	assert.Less(t, age, 10.0)

	startRelay(t, o)
	require.NoError(t, o.Flush(ctx(t)))
	n, age = gauges()
	assert.Equal(t, int64(0), n, "all published")
	assert.Zero(t, age)

	// The inbox notifying o records through o's provider.
	in := migratedInbox(t, db, outbox.WithNotify(o))
	id := uuid.New()
	apply := func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, "a") }
	for range 3 {
		_, err := in.Process(ctx(t), "stock", id, apply)
		require.NoError(t, err)
	}
	require.NoError(t, in.Scope(ctx(t), func(c context.Context) {
		applied, err := in.Process(c, "stock", id, apply)
		assert.NoError(t, err)
		assert.False(t, applied)
	}))
	dup, ok := collect(t, reader)[outbox.MetricInboxDuplicates].(metricdata.Sum[int64])
	require.True(t, ok)
	require.Len(t, dup.DataPoints, 1)
	assert.Equal(t, int64(3), dup.DataPoints[0].Value, "the second and third Process, and the one in a Scope")
	assert.Equal(t, attribute.NewSet(attribute.String("messaging.consumer.group.name", "stock")), dup.DataPoints[0].Attributes)
}
