package api_test

import (
	"net/http"
	"testing"
	"time"

	execapp "github.com/giia/events/services/execution/app"
	st "github.com/giia/events/services/internal/servicetest"
)

// FuzzAPI sends the execution API arbitrary methods, paths and bodies:
// no 5xx, and a refused request changes nothing.
//
//	go test ./services/execution/internal/api -run '^$' -fuzz FuzzAPI -fuzztime 60s
func FuzzAPI(f *testing.F) {
	env := st.New(f)
	svc := env.Start(execapp.Start)
	p := st.NewProduct("BRG-6204-2RS")
	env.PublishProduct(p)
	st.Eventually(f, 5*time.Second, func() bool {
		return env.Do(http.MethodGet, svc.URL()+"/products/"+p.ID.String(), nil).Status == http.StatusOK
	}, "execution never learnt the product")
	line := `{"product_id": "` + p.ID.String() + `", "quantity": 3}`
	rows := func() int64 { s := svc.Outbox().Stats(); return s.Pending + s.Sent }
	env.FuzzAPI(f, svc.URL(), rows,
		st.Seed{Method: http.MethodPost, Path: "/purchase-orders", Body: `{"location_id": "b4f1c7d2-3e6a-4f58-9b0c-7a2d1e5f8c34", "expected_delivery_date": "2027-01-05", "lines": [` + line + `]}`},
		st.Seed{Method: http.MethodPost, Path: "/purchase-orders", Body: `{"location_id": "x", "lines": [{"quantity": 1e302}]}`},
		st.Seed{Method: http.MethodPost, Path: "/sales-orders", Body: `{"customer_id": "47e2c8b5-3a9d-4f16-b7e0-8d1c5a6f2e93", "location_id": "b4f1c7d2-3e6a-4f58-9b0c-7a2d1e5f8c34", "due_date": "2027-01-05", "lines": [` + line + `]}`},
		st.Seed{Method: http.MethodPost, Path: "/inventory/adjustments", Body: `{"product_id": "` + p.ID.String() + `", "location_id": "b4f1c7d2-3e6a-4f58-9b0c-7a2d1e5f8c34", "delta": 5, "reason": "adjustment"}`},
		st.Seed{Method: http.MethodPost, Path: "/inventory/adjustments", Body: `{"delta": -1e12, "delta": 1}`},
		st.Seed{Method: http.MethodGet, Path: "/purchase-orders?limit=2&after=WyJQTyJd"},
		st.Seed{Method: http.MethodGet, Path: "/inventory/" + p.ID.String() + "/b4f1c7d2-3e6a-4f58-9b0c-7a2d1e5f8c34"},
		st.Seed{Method: http.MethodPost, Path: "/purchase-orders/00000000-0000-0000-0000-000000000000/receipts", Body: `{}`},
		st.Seed{Method: http.MethodPost, Path: "/sales-orders/x/shipments", Body: "{\"lines\": [\xff]}"},
	)
}
