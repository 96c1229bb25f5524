package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/spec"
)

func TestPermissions(t *testing.T) {
	cat := newCatalog(t)
	s := cat.Stream.Name
	pub, sub := spec.Permissions(cat.Catalog, "stock")
	assert.Equal(t, []string{
		cat.Subject("stock.adjusted"),
		cat.Stream.DeadLetterPrefix + ".stock." + cat.Subject("orders.cancelled"),
		cat.Stream.DeadLetterPrefix + ".stock." + cat.Subject("orders.created"),
		"$JS.API.INFO",
		"$JS.API.STREAM.INFO." + s,
		"$JS.API.CONSUMER.CREATE." + s + ".stock-service",
		"$JS.API.CONSUMER.INFO." + s + ".stock-service",
		"$JS.API.CONSUMER.MSG.NEXT." + s + ".stock-service",
		"$JS.ACK." + s + ".stock-service.>",
		"$JS.ACK.*.*." + s + ".stock-service.>",
		"$JS.API.CONSUMER.CREATE." + s + ".stock-service-" + cat.Prefix + "_orders_cancelled." + cat.Subject("orders.cancelled"),
		"$JS.API.CONSUMER.INFO." + s + ".stock-service-" + cat.Prefix + "_orders_cancelled",
		"$JS.API.CONSUMER.MSG.NEXT." + s + ".stock-service-" + cat.Prefix + "_orders_cancelled",
		"$JS.ACK." + s + ".stock-service-" + cat.Prefix + "_orders_cancelled.>",
		"$JS.ACK.*.*." + s + ".stock-service-" + cat.Prefix + "_orders_cancelled.>",
		"$JS.API.CONSUMER.CREATE." + s + ".stock-service-" + cat.Prefix + "_orders_created." + cat.Subject("orders.created"),
		"$JS.API.CONSUMER.INFO." + s + ".stock-service-" + cat.Prefix + "_orders_created",
		"$JS.API.CONSUMER.MSG.NEXT." + s + ".stock-service-" + cat.Prefix + "_orders_created",
		"$JS.ACK." + s + ".stock-service-" + cat.Prefix + "_orders_created.>",
		"$JS.ACK.*.*." + s + ".stock-service-" + cat.Prefix + "_orders_created.>",
	}, pub)
	assert.Equal(t, []string{"_INBOX.stock.>"}, sub)

	pub, sub = spec.Permissions(cat.Catalog, "analytics")
	assert.NotContains(t, pub, cat.Subject("orders.created"), "a consumer does not publish what it consumes")
	assert.Contains(t, pub, "$JS.API.CONSUMER.MSG.NEXT."+s+".analytics-service")
	assert.Equal(t, []string{"_INBOX.analytics.>"}, sub)

	pub, sub = spec.Permissions(cat.Catalog, "nobody")
	assert.Nil(t, pub)
	assert.Nil(t, sub)
	pub, sub = spec.Permissions(nil, "stock")
	assert.Nil(t, pub)
	assert.Nil(t, sub)

	pub, sub = spec.AdminPermissions(cat.Catalog)
	assert.Equal(t, []string{"$JS.API.>", cat.Prefix + ".>"}, pub)
	assert.Equal(t, []string{"_INBOX.>"}, sub)
	pub, sub = spec.AdminPermissions(nil)
	assert.Nil(t, pub)
	assert.Nil(t, sub)

	assert.Equal(t, "_INBOX.ddmrp", spec.InboxPrefix("ddmrp"))
}

// usersOf returns a user per service of cat with spec.Permissions, and
// spec.AdminUser with spec.AdminPermissions; every password is the name.
func usersOf(cat *spec.Catalog) []*server.User {
	perms := func(pub, sub []string) *server.Permissions {
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: pub},
			Subscribe: &server.SubjectPermission{Allow: sub},
		}
	}
	users := []*server.User{{Username: spec.AdminUser, Password: spec.AdminUser, Permissions: perms(spec.AdminPermissions(cat))}}
	for _, s := range cat.Services {
		users = append(users, &server.User{Username: s.Name, Password: s.Name, Permissions: perms(spec.Permissions(cat, s.Name))})
	}
	return users
}

// connectAs connects as service under its permissions.
func connectAs(t *testing.T, url, service string) *bus.Conn {
	t.Helper()
	return connect(t, url, bus.WithUserInfo(service, service), bus.WithInboxPrefix(spec.InboxPrefix(service)))
}

func TestPermissionsOnServer(t *testing.T) {
	cat := newCatalog(t)
	srv := runServer(t, func(o *server.Options) {
		o.Users = append(usersOf(cat.Catalog), &server.User{Username: "auditor", Password: "auditor", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{"$JS.API.>"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
		}})
	})
	admin := connect(t, srv.URL(), bus.WithUserInfo(spec.AdminUser, spec.AdminUser))
	require.NoError(t, bus.EnsureTopology(ctx(t), admin, cat.Catalog))
	orders := connectAs(t, srv.URL(), "orders")
	stock := connectAs(t, srv.URL(), "stock")

	t.Run("publishing another service's event is refused at once", func(t *testing.T) {
		p, err := bus.NewPublisher(stock, cat.Catalog, "orders", bus.WithRetry(5, 100*time.Millisecond))
		require.NoError(t, err)
		start := time.Now()
		_, err = p.Publish(ctx(t), cat.Subject("orders.created"), newOrder())
		took := time.Since(start)
		require.ErrorIs(t, err, bus.ErrPermissionDenied)
		var pe *bus.PublishError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 1, pe.Attempts)
		assert.Less(t, took, time.Second)
	})

	t.Run("another service's durable is refused at once", func(t *testing.T) {
		start := time.Now()
		_, err := bus.Consume(ctx(t), stock, cat.Catalog, "orders", nil)
		assert.ErrorIs(t, err, bus.ErrPermissionDenied)
		assert.ErrorIs(t, err, bus.ErrTopology)
		_, err = bus.Consume(ctx(t), stock, cat.Catalog, "orders", nil, bus.WithLegacyConsumers())
		assert.ErrorIs(t, err, bus.ErrPermissionDenied, "nor its NATS 2.9 durables")
		assert.Less(t, time.Since(start), time.Second)
	})

	t.Run("another service's inbox cannot be read", func(t *testing.T) {
		_, err := stock.NATS().SubscribeSync(spec.InboxPrefix("orders") + ".>")
		require.NoError(t, err)
		require.NoError(t, stock.NATS().Flush()) // the server's refusal comes before its PONG
		err = stock.NATS().LastError()
		assert.ErrorIs(t, err, nats.ErrPermissionViolation)
		assert.ErrorContains(t, err, `Subscription to "_INBOX.orders.>"`)
	})

	t.Run("own events and own durables work, legacy ones too", func(t *testing.T) {
		var got recorder[orderCreated]
		sub, err := bus.Consume(ctx(t), stock, cat.Catalog, "stock",
			[]bus.Route{bus.NewRoute(cat.Subject("orders.created"), got.Handler)}, bus.WithLegacyConsumers())
		require.NoError(t, err)
		t.Cleanup(func() { _ = sub.Stop(context.Background()) })
		p, err := bus.NewPublisher(orders, cat.Catalog, "orders")
		require.NoError(t, err)
		_, err = p.Publish(ctx(t), cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
		eventually(t, func() bool { return len(got.Got()) == 1 }, "the event reaches stock")

		// A payload that breaks its schema, published by the admin, is
		// dead-lettered under stock's permissions.
		_, err = admin.JetStream().Publish(ctx(t), cat.Subject("orders.cancelled"), []byte("garbage"))
		require.NoError(t, err)
		dls := waitDeadLetters(t, admin, cat.Catalog, 1)
		assert.Equal(t, cat.Subject("orders.cancelled"), dls[0].OriginalSubject)
		assert.Equal(t, "stock", dls[0].Service)
	})

	t.Run("the dead-letter tools need the admin", func(t *testing.T) {
		_, err := bus.ListDeadLetters(ctx(t), stock, cat.Catalog)
		assert.ErrorIs(t, err, bus.ErrPermissionDenied)
	})

	t.Run("a refused replay keeps the dead letter", func(t *testing.T) {
		auditor := connect(t, srv.URL(), bus.WithUserInfo("auditor", "auditor"))
		dls := waitDeadLetters(t, auditor, cat.Catalog, 1)
		start := time.Now()
		err := bus.ReplayDeadLetter(ctx(t), auditor, cat.Catalog, dls[0].Sequence)
		assert.Less(t, time.Since(start), time.Second)
		require.ErrorIs(t, err, bus.ErrPermissionDenied)
		require.ErrorIs(t, err, bus.ErrPublishFailed)
		after, err := bus.ListDeadLetters(ctx(t), auditor, cat.Catalog)
		require.NoError(t, err)
		assert.Equal(t, dls, after)
	})
}

// waitDeadLetters waits until cat's dead-letter stream holds at least n
// dead letters and returns them.
func waitDeadLetters(t *testing.T, c *bus.Conn, cat *spec.Catalog, n int, filters ...bus.DeadLetterFilter) []bus.DeadLetter {
	t.Helper()
	var dls []bus.DeadLetter
	eventually(t, func() bool {
		var err error
		dls, err = bus.ListDeadLetters(ctx(t), c, cat, filters...)
		require.NoError(t, err)
		return len(dls) >= n
	}, "%d dead letters", n)
	return dls
}

func TestUserAndInboxOptions(t *testing.T) {
	for _, opt := range []bus.ConnectOption{
		bus.WithUserInfo("", "x"),
		bus.WithInboxPrefix(""), bus.WithInboxPrefix("_INBOX.>"), bus.WithInboxPrefix("_INBOX."),
		bus.WithInboxPrefix(".x"), bus.WithInboxPrefix("a..b"), bus.WithInboxPrefix("a b"),
	} {
		_, err := bus.Connect("nats://127.0.0.1:1", opt)
		assert.ErrorIs(t, err, bus.ErrInvalidOption)
	}
}
