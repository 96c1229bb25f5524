package api_test

import (
	"net/http"
	"testing"

	ddmrpapp "github.com/giia/events/services/ddmrp/app"
	st "github.com/giia/events/services/internal/servicetest"
)

// FuzzAPI sends the DDMRP API arbitrary methods, paths and bodies: no
// 5xx, and a refused request changes nothing.
//
//	go test ./services/ddmrp/internal/api -run '^$' -fuzz FuzzAPI -fuzztime 60s
func FuzzAPI(f *testing.F) {
	env := st.New(f)
	svc := env.Start(ddmrpapp.Start)
	rows := func() int64 { s := svc.Outbox().Stats(); return s.Pending + s.Sent }
	path := "/buffers/5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93/b4f1c7d2-3e6a-4f58-9b0c-7a2d1e5f8c34"
	env.FuzzAPI(f, svc.URL(), rows,
		st.Seed{Method: http.MethodPut, Path: path, Body: `{"sku": "BRG-6204-2RS", "unit": "EA", "adu": 40, "dlt_days": 10, "lead_time_factor": 0.5, "variability_factor": 0.5, "moq": 200, "order_cycle_days": 7}`},
		st.Seed{Method: http.MethodPut, Path: path, Body: `{"sku": "BRG-6204-2RS", "unit": "EA", "adu": 1e300, "dlt_days": 9223372036854775807, "lead_time_factor": 0.5, "variability_factor": 0.5, "moq": 200, "order_cycle_days": 7}`},
		st.Seed{Method: http.MethodPut, Path: path, Body: `{"ADU": 1, "adu": 2, "adu": 3}`},
		st.Seed{Method: http.MethodGet, Path: path},
		st.Seed{Method: http.MethodGet, Path: "/buffers?limit=1"},
		st.Seed{Method: http.MethodGet, Path: "/buffers/x/y"},
	)
}
