package outbox_test

import "github.com/giia/events/sdk/internal/testenv"

// The shared fixtures of sdk/internal/testenv, under short names.
type (
	env            = testenv.Env
	orderCreated   = testenv.OrderCreated
	orderCancelled = testenv.OrderCancelled
	stockAdjusted  = testenv.StockAdjusted
	testCatalog    = testenv.Catalog
)

type recorder[T any] = testenv.Recorder[T]

var (
	newEnv     = testenv.New
	runServer  = testenv.RunServer
	connect    = testenv.Connect
	ctx        = testenv.Ctx
	eventually = testenv.Eventually
	newOrder   = testenv.NewOrder
	newCatalog = testenv.NewCatalog
)

const (
	orderCreatedSchema   = testenv.OrderCreatedSchema
	orderCancelledSchema = testenv.OrderCancelledSchema
	stockAdjustedSchema  = testenv.StockAdjustedSchema
)
