package bus_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
)

func TestEnsureTopologyCreates(t *testing.T) {
	e := newEnv(t) // ran EnsureTopology once
	js := e.conn.JetStream()

	s, err := js.Stream(ctx(t), e.cat.Stream.Name)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	assert.Equal(t, e.cat.Stream.Subjects, cfg.Subjects)
	assert.Equal(t, 2*time.Minute, cfg.Duplicates)
	assert.Equal(t, time.Hour, cfg.MaxAge)
	assert.Equal(t, 1, cfg.Replicas)
	assert.Equal(t, jetstream.FileStorage, cfg.Storage)

	dl, err := js.Stream(ctx(t), e.cat.Stream.DeadLetterStream)
	require.NoError(t, err)
	dlCfg := dl.CachedInfo().Config
	assert.Equal(t, []string{e.cat.Stream.DeadLetterPrefix + ".>"}, dlCfg.Subjects)
	assert.Equal(t, time.Hour, dlCfg.MaxAge)
	assert.Equal(t, jetstream.FileStorage, dlCfg.Storage)

	checkConfig := func(info *jetstream.ConsumerInfo) {
		t.Helper()
		assert.Equal(t, jetstream.AckExplicitPolicy, info.Config.AckPolicy)
		assert.Equal(t, jetstream.DeliverAllPolicy, info.Config.DeliverPolicy)
		assert.Equal(t, bus.DefaultAckWait, info.Config.AckWait)
		assert.Equal(t, bus.DefaultMaxDeliver+bus.DeadLetterSpareDeliveries, info.Config.MaxDeliver)
	}
	for service, subjects := range map[string][]string{
		"analytics": {e.cat.subject("orders.created")},
		"orders":    {e.cat.subject("stock.adjusted")},
		"stock":     {e.cat.subject("orders.cancelled"), e.cat.subject("orders.created")},
	} {
		if e.multiFilter(t) {
			info := e.consumerInfo(t, bus.ConsumerName(service))
			assert.Equal(t, service+"-service", info.Config.Durable)
			assert.Equal(t, subjects, info.Config.FilterSubjects, service)
			checkConfig(info)
			continue
		}
		// NATS 2.9: one durable per subject.
		for _, subject := range subjects {
			name := service + "-service-" + strings.ReplaceAll(subject, ".", "_")
			info := e.consumerInfo(t, name)
			assert.Equal(t, name, info.Config.Durable)
			assert.Equal(t, subject, info.Config.FilterSubject)
			assert.Empty(t, info.Config.FilterSubjects)
			checkConfig(info)
		}
	}
}

func TestEnsureTopologyIdempotentAndUpdating(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, bus.EnsureTopology(ctx(t), e.conn, e.cat.Catalog), "second call")
	require.NoError(t, bus.EnsureTopology(ctx(t), e.conn, e.cat.Catalog), "third call")

	// A changed catalog updates the streams and consumers in place.
	e.cat.Stream.MaxAge = 2 * time.Hour
	e.cat.Stream.Duplicates = time.Minute
	e.cat.Events[2].Consumers = []string{"analytics", "orders"} // analytics now consumes stock.adjusted too
	require.NoError(t, bus.EnsureTopology(ctx(t), e.conn, e.cat.Catalog))
	s, err := e.conn.JetStream().Stream(ctx(t), e.cat.Stream.Name)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, s.CachedInfo().Config.MaxAge)
	assert.Equal(t, time.Minute, s.CachedInfo().Config.Duplicates)
	dl, err := e.conn.JetStream().Stream(ctx(t), e.cat.Stream.DeadLetterStream)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, dl.CachedInfo().Config.MaxAge)
	analytics := []string{e.cat.subject("orders.created"), e.cat.subject("stock.adjusted")}
	if e.multiFilter(t) {
		assert.Equal(t, analytics, e.consumerInfo(t, bus.ConsumerName("analytics")).Config.FilterSubjects)
	} else {
		for _, subject := range analytics {
			assert.Equal(t, subject, e.consumerInfo(t, e.durable(t, "analytics", subject)).Config.FilterSubject)
		}
	}

	// Consumer options update the durable(s).
	require.NoError(t, bus.EnsureConsumer(ctx(t), e.conn, e.cat.Catalog, "stock", bus.WithMaxDeliver(2), bus.WithAckWait(time.Minute)))
	require.NotEmpty(t, e.durables(t, "stock"))
	for _, name := range e.durables(t, "stock") {
		info := e.consumerInfo(t, name)
		assert.Equal(t, 2+bus.DeadLetterSpareDeliveries, info.Config.MaxDeliver, name)
		assert.Equal(t, time.Minute, info.Config.AckWait, name)
	}

	stream, err := e.conn.JetStream().Stream(ctx(t), e.cat.Stream.Name)
	require.NoError(t, err)
	names := stream.ConsumerNames(ctx(t))
	var all []string
	for n := range names.Name() {
		all = append(all, n)
	}
	slices.Sort(all)
	want := []string{"analytics-service", "orders-service", "stock-service"}
	if !e.multiFilter(t) {
		p := e.cat.prefix
		want = []string{
			"analytics-service-" + p + "_orders_created", "analytics-service-" + p + "_stock_adjusted",
			"orders-service-" + p + "_stock_adjusted",
			"stock-service-" + p + "_orders_cancelled", "stock-service-" + p + "_orders_created",
		}
	}
	assert.Equal(t, want, all, "nothing else created")
}

func TestEnsureTopologyErrors(t *testing.T) {
	e := newEnv(t)
	assert.ErrorIs(t, bus.EnsureStream(ctx(t), nil, e.cat.Catalog), bus.ErrInvalidOption)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.conn, nil, "stock"), bus.ErrInvalidOption)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.conn, e.cat.Catalog, "billing"), bus.ErrUnknownService)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.conn, e.cat.Catalog, "stock", bus.WithMaxDeliver(-1)), bus.ErrInvalidOption)

	// Subjects that overlap another stream's are refused by the server.
	other := newCatalog(t)
	other.Stream.Subjects = e.cat.Stream.Subjects
	err := bus.EnsureTopology(ctx(t), e.conn, other.Catalog)
	assert.ErrorIs(t, err, bus.ErrTopology)
	assert.ErrorContains(t, err, other.Stream.Name)

	// Only the dead-letter stream fails.
	other = newCatalog(t)
	other.Stream.DeadLetterPrefix = e.cat.Stream.DeadLetterPrefix
	err = bus.EnsureStream(ctx(t), e.conn, other.Catalog)
	assert.ErrorIs(t, err, bus.ErrTopology)
	assert.ErrorContains(t, err, other.Stream.DeadLetterStream)
	t.Cleanup(func() { deleteStreams(t, e.srv, other.Catalog) })

	// A consumer the server refuses (a durable name cannot hold a dot).
	bad := newCatalog(t)
	bad.Services = append(bad.Services, bus.ServiceSpec{Name: "bad.name"})
	bad.Events[0].Consumers = []string{"bad.name", "stock"}
	err = bus.EnsureTopology(ctx(t), e.conn, bad.Catalog)
	assert.ErrorIs(t, err, bus.ErrTopology)
	assert.ErrorContains(t, err, "bad.name-service")
	t.Cleanup(func() { deleteStreams(t, e.srv, bad.Catalog) })

	// A consumer on a stream that does not exist.
	missing := newCatalog(t)
	assert.ErrorIs(t, bus.EnsureTopology(ctx(t), e.conn, &bus.Catalog{Stream: bus.StreamSpec{}}), bus.ErrTopology)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.conn, missing.Catalog, "stock"), bus.ErrTopology)
}

func TestDeadLetterDefaults(t *testing.T) {
	e := newEnv(t)
	if e.srv.External() {
		t.Skip("the default dead-letter subjects may be in use on an external server")
	}
	cat := newCatalog(t)
	cat.Stream.DeadLetterStream, cat.Stream.DeadLetterPrefix = "", ""
	cat.Stream.Subjects = []string{cat.prefix + ".>"}
	require.NoError(t, bus.EnsureStream(ctx(t), e.conn, cat.Catalog))
	t.Cleanup(func() {
		_ = e.conn.JetStream().DeleteStream(ctx(t), cat.Stream.Name)
		_ = e.conn.JetStream().DeleteStream(ctx(t), cat.Stream.Name+bus.DefaultDeadLetterStreamSuffix)
	})
	dl, err := e.conn.JetStream().Stream(ctx(t), cat.Stream.Name+bus.DefaultDeadLetterStreamSuffix)
	require.NoError(t, err)
	assert.Equal(t, []string{bus.DefaultDeadLetterPrefix + ".>"}, dl.CachedInfo().Config.Subjects)
	assert.Equal(t, "deadletter.stock."+cat.subject("orders.created"), bus.DeadLetterSubject(cat.Catalog, "stock", cat.subject("orders.created")))
	assert.Equal(t, "execution-service", bus.ConsumerName("execution"))
}
