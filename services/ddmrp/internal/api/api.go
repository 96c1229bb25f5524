// Package api is the DDMRP service's HTTP JSON API. Every route needs
// a bearer token (web.Authenticator), which says the organization and the
// roles; setting a profile needs the planner role, reads any role. A path
// no route has is 404 whatever its headers (the service's host serves
// /livez and /readyz beside it); refusals are 400, 401, 403, 404, 409 or
// 415 with {"error": {"field": "...", "message": "..."}}.
//
//	PUT /buffers/{product_id}/{location_id}   set (201 new, 200 changed) a buffer's profile [planner]
//	GET /buffers/{product_id}/{location_id}   a buffer's zones, position and status
//	GET /buffers                              every buffer of the organization
package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/services/ddmrp/internal/core"
	"github.com/giia/events/services/ddmrp/internal/store"
	"github.com/giia/events/services/internal/web"
)

// Handler returns the API over the use cases of svc, for the callers auth
// verifies.
func Handler(svc *core.Service, auth web.Authenticator) http.Handler {
	a := &api{svc: svc}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /buffers/{product_id}/{location_id}", web.Require(web.RolePlanner, a.setProfile))
	mux.HandleFunc("GET /buffers/{product_id}/{location_id}", a.getBuffer)
	mux.HandleFunc("GET /buffers", a.listBuffers)
	mux.HandleFunc("/", web.NotFound)

	return web.Identified(auth, mux)
}

type api struct{ svc *core.Service }

type profileRequest struct {
	SKU               *string  `json:"sku"`
	Unit              *string  `json:"unit"`
	ADU               *float64 `json:"adu"`
	DLTDays           *int     `json:"dlt_days"`
	LeadTimeFactor    *float64 `json:"lead_time_factor"`
	VariabilityFactor *float64 `json:"variability_factor"`
	MOQ               *float64 `json:"moq"`
	OrderCycleDays    *int     `json:"order_cycle_days"`
}

func position(r *http.Request) (store.Position, error) {
	product, err := web.PathUUID(r, "product_id")
	if err != nil {
		return store.Position{}, err
	}
	location, err := web.PathUUID(r, "location_id")
	if err != nil {
		return store.Position{}, err
	}
	return store.Position{ProductID: product, LocationID: location}, nil
}

func profileInput(r *http.Request) (core.ProfileInput, error) {
	var req profileRequest
	if err := web.Decode(r, &req, false); err != nil {
		return core.ProfileInput{}, err
	}
	in := core.ProfileInput{SKU: req.SKU, Unit: req.Unit}
	var err error
	p := &in.Profile
	if p.ADU, err = web.RequiredNumber("adu", req.ADU); err != nil {
		return in, err
	}
	if p.DLTDays, err = web.RequiredInt("dlt_days", req.DLTDays); err != nil {
		return in, err
	}
	if p.LeadTimeFactor, err = web.RequiredNumber("lead_time_factor", req.LeadTimeFactor); err != nil {
		return in, err
	}
	if p.VariabilityFactor, err = web.RequiredNumber("variability_factor", req.VariabilityFactor); err != nil {
		return in, err
	}
	if req.MOQ != nil {
		p.MOQ = *req.MOQ
	}
	if req.OrderCycleDays != nil {
		p.OrderCycleDays = *req.OrderCycleDays
	}
	return in, nil
}

func (a *api) setProfile(w http.ResponseWriter, r *http.Request) {
	pos, err := position(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	in, err := profileInput(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v, created, err := a.svc.SetProfile(r.Context(), pos, in)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	web.WriteJSON(w, status, bufferView(v))
}

func (a *api) getBuffer(w http.ResponseWriter, r *http.Request) {
	pos, err := position(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v, err := a.svc.Buffer(r.Context(), pos)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, bufferView(v))
}

func (a *api) listBuffers(w http.ResponseWriter, r *http.Request) {
	page, err := web.PageOf(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	vs, err := a.svc.Buffers(r.Context(), store.Page(page))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	out := make([]BufferJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, bufferView(v))
	}
	web.WritePage(w, page, "buffers", out, func(b BufferJSON) []string {
		return []string{b.Product.ProductID.String(), b.LocationID.String()}
	})
}

// BufferJSON is a buffer as the API returns it.
type BufferJSON struct {
	BufferID            uuid.UUID   `json:"buffer_id"`
	Product             ProductJSON `json:"product"`
	LocationID          uuid.UUID   `json:"location_id"`
	Unit                string      `json:"unit"`
	Discontinued        bool        `json:"discontinued"`
	Profile             ProfileJSON `json:"profile"`
	Zones               ZonesJSON   `json:"zones"`
	OnHand              float64     `json:"on_hand"`
	OnOrder             float64     `json:"on_order"`
	DraftSupply         float64     `json:"draft_supply"`
	QualifiedDemand     float64     `json:"qualified_demand"`
	NetFlowPosition     float64     `json:"net_flow_position"`
	Zone                string      `json:"zone"`
	PercentOfTopOfGreen float64     `json:"percent_of_top_of_green"`
	AlertArmed          bool        `json:"alert_armed"`
	UpdatedAt           time.Time   `json:"updated_at"`
}

// ProductJSON identifies the buffered product.
type ProductJSON struct {
	ProductID uuid.UUID `json:"product_id"`
	SKU       string    `json:"sku"`
}

// ProfileJSON is a buffer's profile.
type ProfileJSON struct {
	ADU               float64 `json:"adu"`
	DLTDays           int     `json:"dlt_days"`
	LeadTimeFactor    float64 `json:"lead_time_factor"`
	VariabilityFactor float64 `json:"variability_factor"`
	MOQ               float64 `json:"moq"`
	OrderCycleDays    int     `json:"order_cycle_days"`
}

// ZonesJSON are a buffer's zones and their tops.
type ZonesJSON struct {
	RedBase     float64 `json:"red_base"`
	RedSafety   float64 `json:"red_safety"`
	Red         float64 `json:"red"`
	Yellow      float64 `json:"yellow"`
	Green       float64 `json:"green"`
	TopOfRed    float64 `json:"top_of_red"`
	TopOfYellow float64 `json:"top_of_yellow"`
	TopOfGreen  float64 `json:"top_of_green"`
}

func bufferView(v core.View) BufferJSON {
	p, z, s := v.Profile, v.Zones, v.Status
	return BufferJSON{
		BufferID:     v.BufferID,
		Product:      ProductJSON{ProductID: v.Product.ID, SKU: v.Product.SKU},
		LocationID:   v.LocationID,
		Unit:         v.Product.Unit,
		Discontinued: v.Discontinued,
		Profile: ProfileJSON{ADU: p.ADU, DLTDays: p.DLTDays, LeadTimeFactor: p.LeadTimeFactor,
			VariabilityFactor: p.VariabilityFactor, MOQ: p.MOQ, OrderCycleDays: p.OrderCycleDays},
		Zones: ZonesJSON{RedBase: z.RedBase, RedSafety: z.RedSafety, Red: z.Red, Yellow: z.Yellow, Green: z.Green,
			TopOfRed: z.TopOfRed, TopOfYellow: z.TopOfYellow, TopOfGreen: z.TopOfGreen},
		OnHand:              s.OnHand,
		OnOrder:             s.OnOrder,
		DraftSupply:         v.DraftSupply,
		QualifiedDemand:     s.QualifiedDemand,
		NetFlowPosition:     s.NetFlowPosition,
		Zone:                string(s.Zone),
		PercentOfTopOfGreen: s.PercentOfTOG,
		AlertArmed:          v.AlertArmed,
		UpdatedAt:           v.UpdatedAt,
	}
}
