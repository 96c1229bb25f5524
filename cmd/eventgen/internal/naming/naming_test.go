package naming_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/giia/events/cmd/eventgen/internal/naming"
)

func TestCamelCase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"purchase_order_id", "PurchaseOrderID"},
		{"purchase_order", "PurchaseOrder"},
		{"execution.purchase_order.created", "ExecutionPurchaseOrderCreated"},
		{"ddmrp", "DDMRP"},
		{"ddmrp.buffer.alert_triggered", "DDMRPBufferAlertTriggered"},
		{"ai-hub", "AIHub"},
		{"sku", "SKU"},
		{"skus", "SKUs"},
		{"product_ids", "ProductIDs"},
		{"url", "URL"},
		{"http_url", "HTTPURL"},
		{"moq", "MOQ"},
		{"adu", "ADU"},
		{"dlt", "DLT"},
		{"json_api", "JSONAPI"},
		{"uuid", "UUID"},
		{"purchaseOrderId", "PurchaseOrderID"},
		{"PurchaseOrder", "PurchaseOrder"},
		{"HTTPServer", "Httpserver"}, // one word: no lower-to-upper break inside
		{"unit_of_measure", "UnitOfMeasure"},
		{"top_of_red", "TopOfRed"},
		{"tor", "TOR"},
		{"red", "Red"},
		{"BOX", "Box"},
		{"KG", "KG"},
		{"cycle_count", "CycleCount"},
		{"v2_payload", "V2Payload"},
		{"line2Total", "Line2Total"},
		{"1st", "1st"},
		{"__", ""},
		{"", ""},
		{"día_de_entrega", "DíaDeEntrega"},
		{"bus", "Bus"},
		{"pos", "Pos"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, naming.CamelCase(tt.in), "CamelCase(%q)", tt.in)
	}
}

func TestWords(t *testing.T) {
	assert.Equal(t, []string{"purchase", "Order", "Id"}, naming.Words("purchaseOrderId"))
	assert.Equal(t, []string{"a", "b", "c"}, naming.Words("a.b-c"))
	assert.Equal(t, []string{"line2", "Total"}, naming.Words("line2Total"))
	assert.Nil(t, naming.Words("--"))
}

func TestSingular(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Lines", "Line"},
		{"PurchaseOrderCreatedLines", "PurchaseOrderCreatedLine"},
		{"Categories", "Category"},
		{"CATEGORIES", "CATEGORY"},
		{"SKUs", "SKU"},
		{"Address", "Address"},
		{"Status", "Status"},
		{"Analysis", "Analysis"},
		{"Line", "Line"},
		{"S", "S"},
		{"Ies", "Ie"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, naming.Singular(tt.in), "Singular(%q)", tt.in)
	}
}

func TestExported(t *testing.T) {
	assert.True(t, naming.Exported("PurchaseOrder"))
	assert.True(t, naming.Exported("Día"))
	assert.False(t, naming.Exported("purchaseOrder"))
	assert.False(t, naming.Exported("1st"))
	assert.False(t, naming.Exported(""))
	assert.False(t, naming.Exported("A-B"))
}

func TestIsInitialism(t *testing.T) {
	assert.True(t, naming.IsInitialism("id"))
	assert.True(t, naming.IsInitialism("DDMRP"))
	assert.False(t, naming.IsInitialism("order"))
}
