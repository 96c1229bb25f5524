package events_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload/encodetest"
)

// payloadTypes is a zero value of every event's payload type; the nested
// types are reached through their fields.
var payloadTypes = map[string]encodetest.Appender{
	events.SubjectCatalogProductCreated:          events.ProductCreated{},
	events.SubjectCatalogProductDiscontinued:     events.ProductDiscontinued{},
	events.SubjectCatalogProductUpdated:          events.ProductUpdated{},
	events.SubjectDDMRPBufferAlertTriggered:      events.BufferAlertTriggered{},
	events.SubjectDDMRPBufferCalculated:          events.BufferCalculated{},
	events.SubjectDDMRPBufferStatusChanged:       events.BufferStatusChanged{},
	events.SubjectExecutionInventoryUpdated:      events.InventoryUpdated{},
	events.SubjectExecutionPurchaseOrderCreated:  events.PurchaseOrderCreated{},
	events.SubjectExecutionPurchaseOrderReceived: events.PurchaseOrderReceived{},
	events.SubjectExecutionSalesOrderCreated:     events.SalesOrderCreated{},
	events.SubjectExecutionSalesOrderShipped:     events.SalesOrderShipped{},
}

func TestPayloadTypesCoverTheCatalog(t *testing.T) {
	assert.ElementsMatch(t, events.Subjects, mapsKeys(payloadTypes))
}

// TestAppendJSONMatchesEncodingJSON holds every payload type's generated
// AppendJSON to json.Marshal: on the catalog's examples, and on random
// values of each type (odd strings, numbers at the format's edges, NaN,
// times out of range, nil and empty collections).
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for subject, payloads := range examples(t) {
		typ := reflect.TypeOf(payloadTypes[subject])
		require.NotNil(t, typ, subject)
		for _, data := range payloads {
			v := reflect.New(typ)
			require.NoError(t, json.Unmarshal(data, v.Interface()), subject)
			encodetest.Check(t, v.Elem().Interface().(encodetest.Appender))
			encodetest.Check(t, v.Interface().(encodetest.Appender)) // through a pointer too
		}
	}
	n := 3000
	if testing.Short() {
		n = 300
	}
	for subject, zero := range payloadTypes {
		agreed := encodetest.CheckRandom(t, zero, n, 1)
		assert.Equal(t, n, agreed, subject)
	}
}
