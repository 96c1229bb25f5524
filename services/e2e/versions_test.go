package e2e_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload"
	ddmrpapp "github.com/giia/events/services/ddmrp/app"
	st "github.com/giia/events/services/internal/servicetest"
)

// TestVersion1SalesOrdersUpcast: the stream holds sales orders published
// as version 1 of execution.sales_order.created (one due date for the
// order), by a build of execution from before version 2, and a version 2
// one. The DDMRP service, built for version 2, starts afterwards and
// applies every one of them: the version 1 orders through the upcaster,
// every line due on its order's date. Nothing is dead-lettered.
func TestVersion1SalesOrdersUpcast(t *testing.T) {
	env := st.New(t)
	product := st.NewProduct("BRG-6204-2RS")
	location := uuid.New()
	ref := events.ProductRef{ProductID: product.ID, SKU: product.SKU}
	ea := func(v float64) events.Quantity { return events.Quantity{Value: v, Unit: events.UnitEA} }
	today := payload.DateOf(time.Now().UTC())
	now := time.Now().UTC()

	// What the old build of execution published: the generated version 1
	// type, through a bus.Publisher, which sends it as version 1.
	pub, err := bus.NewPublisher(env.Conn, events.Catalog, events.ServiceExecution)
	require.NoError(t, err)
	v1 := []events.SalesOrderCreatedV1{
		{ // due yesterday: qualified
			SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000001", CustomerID: uuid.New(), LocationID: location,
			Lines: []events.SalesOrderLineV1{{LineNumber: 1, Product: ref, Quantity: ea(10)}}, DueDate: today.AddDays(-1), CreatedAt: now,
		},
		{ // due today, two lines: both qualified
			SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000002", CustomerID: uuid.New(), LocationID: location,
			Lines: []events.SalesOrderLineV1{
				{LineNumber: 1, Product: ref, Quantity: ea(20)},
				{LineNumber: 2, Product: ref, Quantity: ea(30), UnitPrice: &events.Money{Amount: 6.9, Currency: "USD"}},
			},
			DueDate: today, CreatedAt: now,
		},
		{ // due next week, but above the spike threshold (150): qualified at once
			SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000003", CustomerID: uuid.New(), LocationID: location,
			Lines: []events.SalesOrderLineV1{{LineNumber: 1, Product: ref, Quantity: ea(200)}}, DueDate: today.AddDays(7), CreatedAt: now,
		},
		{ // due next week: open demand, not qualified
			SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000004", CustomerID: uuid.New(), LocationID: location,
			Lines: []events.SalesOrderLineV1{{LineNumber: 1, Product: ref, Quantity: ea(40)}}, DueDate: today.AddDays(7), CreatedAt: now,
		},
	}
	for _, so := range v1 {
		_, err := pub.PublishPayload(env.Ctx(), &so)
		require.NoError(t, err, so.OrderNumber)
	}
	// And one of the current build: its lines due on different days, only
	// the first today.
	exec, err := events.NewExecutionPublisher(env.Conn)
	require.NoError(t, err)
	_, err = exec.SalesOrderCreated(env.Ctx(), events.SalesOrderCreated{
		SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000005", CustomerID: uuid.New(), LocationID: location, CreatedAt: now,
		Lines: []events.SalesOrderLine{
			{LineNumber: 1, Product: ref, Quantity: ea(15), DueDate: today},
			{LineNumber: 2, Product: ref, Quantity: ea(25), DueDate: today.AddDays(7)},
		},
	})
	require.NoError(t, err)

	var versions []int
	for _, m := range env.Messages(0) {
		if m.Subject == events.SubjectExecutionSalesOrderCreated {
			versions = append(versions, m.Version)
		}
	}
	require.Equal(t, []int{1, 1, 1, 1, 2}, versions, "the stream holds version 1 events, then one of version 2")

	// DDMRP, built for version 2, starts on that stream, on a clock the
	// test moves.
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	dd := env.Start(ddmrpapp.Start, func(c *ddmrpapp.Config) {
		c.Clock = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	})
	env.WaitCaughtUp(dd.Consumers()...)
	url := fmt.Sprintf("%s/buffers/%s/%s", dd.URL(), product.ID, location)
	body := map[string]any{"sku": product.SKU, "unit": "EA"}
	for k, v := range profile {
		body[k] = v
	}
	env.Do(http.MethodPut, url, body).Must(t, http.StatusCreated)
	var b buffer
	env.Do(http.MethodGet, url, nil).Must(t, http.StatusOK).Decode(t, &b)
	// Qualified: 10 + 20 + 30 + 200 (version 1) + 15 (version 2) = 275;
	// the 40 and the 25 due next week are not yet.
	assert.Equal(t, buffer{QualifiedDemand: 275, NetFlowPosition: -275, Zone: "red"}, b)

	// A week later they are: every line of every event was applied, each
	// version 1 line due on its order's date.
	clock.Store(now.AddDate(0, 0, 7).UnixNano())
	env.Do(http.MethodGet, url, nil).Must(t, http.StatusOK).Decode(t, &b)
	assert.Equal(t, 340.0, b.QualifiedDemand, "275 + 40 + 25")

	assert.Zero(t, env.DeadLetters(), "dead letters")
}
