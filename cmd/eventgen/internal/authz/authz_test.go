package authz_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/authz"
	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/natsconf"
	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

func TestPasswordVar(t *testing.T) {
	assert.Equal(t, "EXECUTION_PASSWORD", authz.PasswordVar("execution"))
	assert.Equal(t, "AI_HUB_PASSWORD", authz.PasswordVar("ai-hub"))
	assert.Equal(t, "ADMIN_PASSWORD", authz.PasswordVar(spec.AdminUser))
}

func TestUsers(t *testing.T) {
	users, err := authz.Users(events.Catalog)
	require.NoError(t, err)
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Name
		pub, sub := spec.Permissions(events.Catalog, u.Name)
		if u.Name == spec.AdminUser {
			pub, sub = spec.AdminPermissions(events.Catalog)
		}
		assert.Equal(t, pub, u.Publish, u.Name)
		assert.Equal(t, sub, u.Subscribe, u.Name)
		assert.Equal(t, authz.PasswordVar(u.Name), u.PasswordVar)
	}
	assert.Equal(t, []string{"admin", "ai-hub", "analytics", "catalog", "ddmrp", "execution"}, names)
	assert.Equal(t, "execution (execution-team): publishes execution.inventory.updated, execution.purchase_order.created, "+
		"execution.purchase_order.received, execution.sales_order.created, execution.sales_order.shipped; "+
		"consumes catalog.product.created, catalog.product.discontinued, catalog.product.updated, ddmrp.buffer.alert_triggered",
		users[5].Comment)
	assert.Contains(t, users[1].Comment, "ai-hub (external): publishes nothing;")

	_, err = authz.Users(nil)
	assert.Error(t, err)
	clash := &spec.Catalog{Stream: events.Catalog.Stream, Services: []spec.Service{{Name: "admin"}}}
	_, err = authz.Users(clash)
	assert.ErrorContains(t, err, `service "admin" and user "admin" would share the password variable ADMIN_PASSWORD`)
	_, err = authz.Generate(clash, authz.Options{})
	assert.Error(t, err)
}

func TestGenerate(t *testing.T) {
	cat := &spec.Catalog{
		Stream:   spec.Stream{Name: "S", Subjects: []string{"a.>"}},
		Services: []spec.Service{{Name: "a-b", Owner: "team"}, {Name: "c"}},
		Events:   []spec.Event{{Subject: "a.x", Publisher: "a-b", Consumers: []string{"c"}}},
	}
	data, err := authz.Generate(cat, authz.Options{Sources: []string{"catalog/x.yaml"}})
	require.NoError(t, err)
	text := string(data)
	assert.True(t, strings.HasPrefix(text, authz.Header+"\n# source: catalog/x.yaml\n"), text)
	assert.Contains(t, text, `
    # a-b (team): publishes a.x; consumes nothing
    {
      user: "a-b"
      password: $A_B_PASSWORD
      permissions: {
        publish: {
          allow: [
            "a.x"
            "$JS.API.INFO"
            "$JS.API.STREAM.INFO.S"
          ]
        }
        subscribe: {
          allow: [
            "_INBOX.a-b.>"
          ]
        }
      }
    }
`)
	assert.Contains(t, text, `    # c: publishes nothing; consumes a.x`)
	assert.True(t, strings.HasSuffix(text, "    }\n  ]\n}\n"))
}

// moduleRoot is the folder of go.mod above the test's folder.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test")
		dir = parent
	}
}

// password is what the test sets in each user's password variable.
func password(user string) string { return user + "-secret" }

// platform is a NATS server configured with the authorization block that
// eventgen writes for the module's catalog, and the catalog's examples.
type platform struct {
	srv      *bustest.Server
	examples map[string]json.RawMessage // the first of each event
}

// startPlatform generates the block from catalog/, checks that it is the
// one of the generated SDK's catalog (events.Catalog), loads it with
// nats-server's own configuration parser and starts a server with its
// users, passwords taken from the environment as in production.
func startPlatform(t *testing.T) *platform {
	t.Helper()
	root := moduleRoot(t)
	loaded, err := catalog.Load(root, filepath.Join(root, "catalog"))
	require.NoError(t, err)
	fromYAML, err := authz.Users(natsconf.RuntimeCatalog(loaded))
	require.NoError(t, err)
	fromSDK, err := authz.Users(events.Catalog)
	require.NoError(t, err)
	require.Equal(t, fromYAML, fromSDK, "sdk/events is stale: run go generate ./...")

	block, err := authz.Generate(events.Catalog, authz.Options{Sources: loaded.Files})
	require.NoError(t, err)
	if checkedIn, err := os.ReadFile(filepath.Join(root, "catalog", "nats-auth.conf")); err == nil {
		assert.Equal(t, string(block), string(checkedIn), "catalog/nats-auth.conf is stale: run eventgen auth --out catalog/nats-auth.conf")
	}
	file := filepath.Join(t.TempDir(), "nats-auth.conf")
	require.NoError(t, os.WriteFile(file, block, 0o600))
	for _, u := range fromSDK {
		t.Setenv(u.PasswordVar, `"`+password(u.Name)+`"`)
	}
	parsed, err := server.ProcessConfigFile(file)
	require.NoError(t, err)
	require.Len(t, parsed.Users, len(fromSDK))

	p := &platform{examples: map[string]json.RawMessage{}}
	for _, e := range loaded.Events {
		require.NotEmpty(t, e.Examples, e.Subject)
		p.examples[e.Subject] = e.Examples[0]
	}
	p.srv = bustest.RunServer(t, func(o *server.Options) { o.Users = parsed.Users })
	return p
}

// connect connects as user; a service with its own inbox prefix.
func (p *platform) connect(t *testing.T, user string) *bus.Conn {
	t.Helper()
	opts := []bus.ConnectOption{bus.WithName(user), bus.WithUserInfo(user, password(user))}
	if user != spec.AdminUser {
		opts = append(opts, bus.WithInboxPrefix(spec.InboxPrefix(user)))
	}
	c, err := bus.Connect(p.srv.URL(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestLeastPrivilege runs a server with the generated authorization block
// and the generated SDK's catalog.
func TestLeastPrivilege(t *testing.T) {
	p := startPlatform(t)
	admin := p.connect(t, spec.AdminUser)
	require.NoError(t, bus.EnsureTopology(testCtx(t), admin, events.Catalog))

	t.Run("execution publishing a ddmrp event is refused at once", func(t *testing.T) {
		execution := p.connect(t, events.ServiceExecution)
		const timeout = 5 * time.Second
		// The catalog check passes (the publisher is ddmrp's); the server
		// refuses the subject.
		pub, err := bus.NewPublisher(execution, events.Catalog, events.ServiceDDMRP, bus.WithPublishTimeout(timeout))
		require.NoError(t, err)
		subject := events.SubjectDDMRPBufferAlertTriggered
		var took []time.Duration
		for range 20 {
			start := time.Now()
			_, err := pub.Publish(testCtx(t), subject, p.examples[subject])
			took = append(took, time.Since(start))
			require.ErrorIs(t, err, bus.ErrPermissionDenied)
			require.ErrorIs(t, err, bus.ErrPublishFailed)
			var pe *bus.PublishError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 1, pe.Attempts, "not retried")
			assert.Equal(t, subject, pe.Subject)
		}
		slices.Sort(took)
		t.Logf("permission_error_median_ms: %.2f", float64(took[len(took)/2].Microseconds())/1000)
		t.Logf("permission_error_max_ms: %.2f", float64(took[len(took)-1].Microseconds())/1000)
		t.Logf("publish_timeout_ms: %d", timeout.Milliseconds())
		assert.Less(t, took[len(took)-1], timeout/10, "well under the publish timeout")

		// The same connection publishes its own events.
		own, err := events.NewExecutionPublisher(execution)
		require.NoError(t, err)
		po, err := events.ParsePurchaseOrderCreated(p.examples[events.SubjectExecutionPurchaseOrderCreated])
		require.NoError(t, err)
		ack, err := own.PurchaseOrderCreated(testCtx(t), po)
		require.NoError(t, err)
		assert.Equal(t, events.Catalog.Stream.Name, ack.Stream)
	})

	t.Run("ddmrp cannot read execution's consumer", func(t *testing.T) {
		ddmrp := p.connect(t, events.ServiceDDMRP)
		start := time.Now()
		_, err := events.ConsumeExecution(testCtx(t), ddmrp, events.ExecutionHandlers{})
		assert.ErrorIs(t, err, bus.ErrPermissionDenied)
		_, err = bus.Consume(testCtx(t), ddmrp, events.Catalog, events.ServiceExecution, nil)
		assert.ErrorIs(t, err, bus.ErrPermissionDenied)
		assert.Less(t, time.Since(start), time.Second)

		// Nor by hand: the consumer's info, a pull, execution's inboxes, the
		// events themselves.
		nc := ddmrp.NATS()
		denied := func(subject string) {
			t.Helper()
			err := nc.LastError()
			require.ErrorIs(t, err, nats.ErrPermissionViolation)
			assert.Contains(t, err.Error(), `"`+subject+`"`)
		}
		stream, durable := events.Catalog.Stream.Name, spec.ConsumerName(events.ServiceExecution)
		ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
		defer cancel()
		_, err = ddmrp.JetStream().Consumer(ctx, stream, durable)
		require.Error(t, err)
		denied("$JS.API.CONSUMER.INFO." + stream + "." + durable)
		_, err = nc.Request("$JS.API.CONSUMER.MSG.NEXT."+stream+"."+durable, []byte(`{"batch":1}`), 200*time.Millisecond)
		require.Error(t, err)
		denied("$JS.API.CONSUMER.MSG.NEXT." + stream + "." + durable)
		for _, subject := range []string{spec.InboxPrefix(events.ServiceExecution) + ".>", "execution.>", "_INBOX.>"} {
			_, err = nc.SubscribeSync(subject)
			require.NoError(t, err)
			require.NoError(t, nc.Flush())
			denied(subject)
		}
	})

	t.Run("each service consumes its own durable", func(t *testing.T) {
		conns := map[string]*bus.Conn{}
		for _, s := range events.Catalog.Services {
			conns[s.Name] = p.connect(t, s.Name)
		}
		var mu sync.Mutex
		got := map[string][]string{} // service: subjects received
		var asyncErrs []error
		for _, s := range events.Catalog.Services {
			var routes []bus.Route
			for _, subject := range events.Catalog.ConsumedBy(s.Name) {
				routes = append(routes, bus.NewRoute(subject, func(_ context.Context, ev bus.Event[json.RawMessage]) error {
					mu.Lock()
					defer mu.Unlock()
					got[s.Name] = append(got[s.Name], ev.Subject)
					return nil
				}))
			}
			if len(routes) == 0 {
				continue
			}
			sub, err := bus.Consume(testCtx(t), conns[s.Name], events.Catalog, s.Name, routes,
				bus.WithErrorHandler(func(err error) { mu.Lock(); asyncErrs = append(asyncErrs, err); mu.Unlock() }))
			require.NoError(t, err, s.Name)
			t.Cleanup(func() { _ = sub.Stop(context.Background()) })
		}
		// Each publisher publishes each of its events.
		want := map[string][]string{}
		for _, e := range events.Catalog.Events {
			pub, err := bus.NewPublisher(conns[e.Publisher], events.Catalog, e.Publisher)
			require.NoError(t, err)
			_, err = pub.Publish(testCtx(t), e.Subject, p.examples[e.Subject])
			require.NoError(t, err, "%s publishing %s", e.Publisher, e.Subject)
			for _, c := range e.Consumers {
				want[c] = append(want[c], e.Subject)
			}
		}
		// Each consumer receives the events it consumes (and execution's
		// purchase order of the first subtest).
		received := func() map[string][]string {
			mu.Lock()
			defer mu.Unlock()
			out := map[string][]string{}
			for s, subjects := range got {
				out[s] = slices.Compact(slices.Sorted(slices.Values(subjects)))
			}
			return out
		}
		for s := range want {
			slices.Sort(want[s])
		}
		require.Eventually(t, func() bool { return assert.ObjectsAreEqual(want, received()) }, 10*time.Second, 10*time.Millisecond,
			"every consumer receives its events")
		// Acknowledgements were accepted: nothing is left pending.
		for s := range want {
			require.Eventually(t, func() bool {
				c, err := admin.JetStream().Consumer(testCtx(t), events.Catalog.Stream.Name, spec.ConsumerName(s))
				require.NoError(t, err)
				info, err := c.Info(testCtx(t))
				require.NoError(t, err)
				return info.NumAckPending == 0 && info.NumPending == 0
			}, 10*time.Second, 10*time.Millisecond, "%s acknowledged everything", s)
		}
		assert.Equal(t, want, received())
		mu.Lock()
		assert.Empty(t, asyncErrs)
		mu.Unlock()
		for name, c := range conns {
			assert.NoError(t, c.NATS().LastError(), "%s saw no refusal", name)
		}

		// Garbage is dead-lettered by each consumer, under its own
		// permissions; the admin lists and replays it.
		subject := events.SubjectExecutionInventoryUpdated
		_, err := admin.JetStream().Publish(testCtx(t), subject, []byte("garbage"))
		require.NoError(t, err)
		var dls []bus.DeadLetter
		require.Eventually(t, func() bool {
			dls, err = bus.ListDeadLetters(testCtx(t), admin, events.Catalog)
			require.NoError(t, err)
			return len(dls) == 2
		}, 10*time.Second, 10*time.Millisecond)
		var services []string
		for _, dl := range dls {
			services = append(services, dl.Service)
			assert.Equal(t, subject, dl.OriginalSubject)
			assert.Contains(t, dl.Reason, "invalid message")
		}
		slices.Sort(services)
		assert.Equal(t, []string{events.ServiceAIHub, events.ServiceDDMRP}, services)
		_, err = bus.ListDeadLetters(testCtx(t), conns[events.ServiceDDMRP], events.Catalog)
		assert.ErrorIs(t, err, bus.ErrPermissionDenied, "services do not read dead letters")
		n, err := bus.ReplayAll(testCtx(t), admin, events.Catalog, bus.FilterService(events.ServiceDDMRP))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
}
