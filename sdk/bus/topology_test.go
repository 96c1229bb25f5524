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
	"github.com/giia/events/sdk/internal/testenv"
	"github.com/giia/events/sdk/spec"
)

func TestEnsureTopologyCreates(t *testing.T) {
	e := newEnv(t) // ran EnsureTopology once
	js := e.Conn.JetStream()

	s, err := js.Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	assert.Equal(t, e.Cat.Stream.Subjects, cfg.Subjects)
	assert.Equal(t, 2*time.Minute, cfg.Duplicates)
	assert.Equal(t, time.Hour, cfg.MaxAge)
	assert.Equal(t, 1, cfg.Replicas)
	assert.Equal(t, jetstream.FileStorage, cfg.Storage)

	dl, err := js.Stream(ctx(t), e.Cat.Stream.DeadLetterStream)
	require.NoError(t, err)
	dlCfg := dl.CachedInfo().Config
	assert.Equal(t, []string{e.Cat.Stream.DeadLetterPrefix + ".>"}, dlCfg.Subjects)
	assert.Equal(t, time.Hour, dlCfg.MaxAge)
	assert.Equal(t, jetstream.FileStorage, dlCfg.Storage)

	checkConfig := func(info *jetstream.ConsumerInfo) {
		t.Helper()
		assert.Equal(t, jetstream.AckExplicitPolicy, info.Config.AckPolicy)
		assert.Equal(t, jetstream.DeliverAllPolicy, info.Config.DeliverPolicy)
		assert.Equal(t, bus.DefaultAckWait, info.Config.AckWait)
		assert.Equal(t, bus.DefaultMaxDeliver+bus.ServerDeliveryMargin, info.Config.MaxDeliver)
	}
	for service, subjects := range map[string][]string{
		"analytics": {e.Cat.Subject("orders.created")},
		"orders":    {e.Cat.Subject("stock.adjusted")},
		"stock":     {e.Cat.Subject("orders.cancelled"), e.Cat.Subject("orders.created")},
	} {
		if e.MultiFilter(t) {
			info := e.ConsumerInfo(t, spec.ConsumerName(service))
			assert.Equal(t, service+"-service", info.Config.Durable)
			assert.Equal(t, subjects, info.Config.FilterSubjects, service)
			checkConfig(info)
			continue
		}
		// NATS 2.9: one durable per subject.
		for _, subject := range subjects {
			name := service + "-service-" + strings.ReplaceAll(subject, ".", "_")
			info := e.ConsumerInfo(t, name)
			assert.Equal(t, name, info.Config.Durable)
			assert.Equal(t, subject, info.Config.FilterSubject)
			assert.Empty(t, info.Config.FilterSubjects)
			checkConfig(info)
		}
	}
}

func TestEnsureTopologyIdempotentAndUpdating(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, bus.EnsureTopology(ctx(t), e.Conn, e.Cat.Catalog), "second call")
	require.NoError(t, bus.EnsureTopology(ctx(t), e.Conn, e.Cat.Catalog), "third call")

	// A changed catalog updates the streams and consumers in place.
	e.Cat.Stream.MaxAge = 2 * time.Hour
	e.Cat.Stream.Duplicates = time.Minute
	e.Cat.Events[2].Consumers = []string{"analytics", "orders"} // analytics now consumes stock.adjusted too
	require.NoError(t, bus.EnsureTopology(ctx(t), e.Conn, e.Cat.Catalog))
	s, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, s.CachedInfo().Config.MaxAge)
	assert.Equal(t, time.Minute, s.CachedInfo().Config.Duplicates)
	dl, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.DeadLetterStream)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, dl.CachedInfo().Config.MaxAge)
	analytics := []string{e.Cat.Subject("orders.created"), e.Cat.Subject("stock.adjusted")}
	if e.MultiFilter(t) {
		assert.Equal(t, analytics, e.ConsumerInfo(t, spec.ConsumerName("analytics")).Config.FilterSubjects)
	} else {
		for _, subject := range analytics {
			assert.Equal(t, subject, e.ConsumerInfo(t, e.Durable(t, "analytics", subject)).Config.FilterSubject)
		}
	}

	// Consumer options update the durable(s).
	require.NoError(t, bus.EnsureConsumer(ctx(t), e.Conn, e.Cat.Catalog, "stock", bus.WithMaxDeliver(2), bus.WithAckWait(time.Minute)))
	require.NotEmpty(t, e.Durables(t, "stock"))
	for _, name := range e.Durables(t, "stock") {
		info := e.ConsumerInfo(t, name)
		assert.Equal(t, 2+bus.ServerDeliveryMargin, info.Config.MaxDeliver, name)
		assert.Equal(t, time.Minute, info.Config.AckWait, name)
	}

	stream, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	names := stream.ConsumerNames(ctx(t))
	var all []string
	for n := range names.Name() {
		all = append(all, n)
	}
	slices.Sort(all)
	want := []string{"analytics-service", "orders-service", "stock-service"}
	if !e.MultiFilter(t) {
		p := e.Cat.Prefix
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
	assert.ErrorIs(t, bus.EnsureStream(ctx(t), nil, e.Cat.Catalog), bus.ErrInvalidOption)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.Conn, nil, "stock"), bus.ErrInvalidOption)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.Conn, e.Cat.Catalog, "billing"), bus.ErrUnknownService)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.Conn, e.Cat.Catalog, "stock", bus.WithMaxDeliver(-1)), bus.ErrInvalidOption)

	// Subjects that overlap another stream's are refused by the server.
	other := newCatalog(t)
	other.Stream.Subjects = e.Cat.Stream.Subjects
	err := bus.EnsureTopology(ctx(t), e.Conn, other.Catalog)
	assert.ErrorIs(t, err, bus.ErrTopology)
	assert.ErrorContains(t, err, other.Stream.Name)

	// Only the dead-letter stream fails.
	other = newCatalog(t)
	other.Stream.DeadLetterPrefix = e.Cat.Stream.DeadLetterPrefix
	err = bus.EnsureStream(ctx(t), e.Conn, other.Catalog)
	assert.ErrorIs(t, err, bus.ErrTopology)
	assert.ErrorContains(t, err, other.Stream.DeadLetterStream)
	t.Cleanup(func() { testenv.DeleteStreams(t, e.Srv, other.Catalog) })

	// A consumer the server refuses (a durable name cannot hold a dot).
	bad := newCatalog(t)
	bad.Services = append(bad.Services, spec.Service{Name: "bad.name"})
	bad.Events[0].Consumers = []string{"bad.name", "stock"}
	err = bus.EnsureTopology(ctx(t), e.Conn, bad.Catalog)
	assert.ErrorIs(t, err, bus.ErrTopology)
	assert.ErrorContains(t, err, "bad.name-service")
	t.Cleanup(func() { testenv.DeleteStreams(t, e.Srv, bad.Catalog) })

	// A consumer on a stream that does not exist.
	missing := newCatalog(t)
	assert.ErrorIs(t, bus.EnsureTopology(ctx(t), e.Conn, &spec.Catalog{Stream: spec.Stream{}}), bus.ErrTopology)
	assert.ErrorIs(t, bus.EnsureConsumer(ctx(t), e.Conn, missing.Catalog, "stock"), bus.ErrTopology)
}

func TestDeadLetterDefaults(t *testing.T) {
	e := newEnv(t)
	if e.Srv.External() {
		t.Skip("the default dead-letter subjects may be in use on an external server")
	}
	cat := newCatalog(t)
	cat.Stream.DeadLetterStream, cat.Stream.DeadLetterPrefix = "", ""
	cat.Stream.Subjects = []string{cat.Prefix + ".>"}
	require.NoError(t, bus.EnsureStream(ctx(t), e.Conn, cat.Catalog))
	t.Cleanup(func() {
		_ = e.Conn.JetStream().DeleteStream(ctx(t), cat.Stream.Name)
		_ = e.Conn.JetStream().DeleteStream(ctx(t), cat.Stream.Name+spec.DefaultDeadLetterStreamSuffix)
	})
	dl, err := e.Conn.JetStream().Stream(ctx(t), cat.Stream.Name+spec.DefaultDeadLetterStreamSuffix)
	require.NoError(t, err)
	assert.Equal(t, []string{spec.DefaultDeadLetterPrefix + ".>"}, dl.CachedInfo().Config.Subjects)
	assert.Equal(t, "deadletter.stock."+cat.Subject("orders.created"), spec.DeadLetterSubject(cat.Catalog, "stock", cat.Subject("orders.created")))
	assert.Equal(t, "execution-service", spec.ConsumerName("execution"))
}
