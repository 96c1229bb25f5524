package core_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/ddmrp/internal/core"
	"github.com/giia/events/services/ddmrp/internal/store"
)

// BenchmarkCatchUp applies what the benchmark's catch-up applies (cmd/bench
// catchUp): sales orders of one line created, then shipped in full, in
// turn over 5 buffers, in groups of outbox.DefaultScopeMax events inside
// the inbox's Scope, as the service consumes a backlog. Per event: the
// reaction, the inbox's record and a share of the group's commit.
func BenchmarkCatchUp(b *testing.B) {
	f := setUp(b)
	h := f.svc.Handlers()
	ctx := f.env.Ctx()
	refs := make([]events.ProductRef, 5)
	for k := range refs {
		refs[k] = events.ProductRef{ProductID: uuid.New(), SKU: fmt.Sprintf("BENCH-%04d", k+1)}
		_, _, err := f.svc.SetProfile(ctx, positionOf(f, refs[k]), core.ProfileInput{SKU: &refs[k].SKU, Unit: ptr("EA"), Profile: rod})
		require.NoError(b, err)
	}
	today := payload.DateOf(f.now)
	qty := events.Quantity{Value: 2, Unit: events.UnitEA}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		err := f.in.Scope(ctx, func(ctx context.Context) {
			for n := 0; n < outbox.DefaultScopeMax && i < b.N; n, i = n+2, i+2 {
				ref, order := refs[(i/2)%len(refs)], uuid.New()
				require.NoError(b, h.SalesOrderCreated(ctx, event(f, events.SalesOrderCreated{
					SalesOrderID: order, OrderNumber: "SO-2026-000001", CustomerID: uuid.New(), LocationID: f.pos.LocationID, CreatedAt: f.now,
					Lines: []events.SalesOrderLine{{LineNumber: 1, Product: ref, Quantity: qty, DueDate: today}},
				})))
				require.NoError(b, h.SalesOrderShipped(ctx, event(f, events.SalesOrderShipped{
					SalesOrderID: order, OrderNumber: "SO-2026-000001", ShipmentID: uuid.New(), LocationID: f.pos.LocationID, ShippedAt: f.now,
					Lines:        []events.SalesOrderShipmentLine{{LineNumber: 1, Product: ref, QuantityShipped: qty, QuantityOutstanding: events.Quantity{Unit: events.UnitEA}}},
					FullyShipped: true,
				})))
			}
		})
		require.NoError(b, err)
	}
}

func ptr[T any](v T) *T { return &v }

// positionOf is ref's product at the fixture's location.
func positionOf(f *fixture, ref events.ProductRef) store.Position {
	return store.Position{ProductID: ref.ProductID, LocationID: f.pos.LocationID}
}
