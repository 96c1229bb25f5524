package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/services/internal/problem"
)

// Principal is who a request acts for, as its verified credentials say:
// never a header the caller could choose.
type Principal struct {
	Subject      string    // the caller (a user or a client)
	Organization uuid.UUID // the tenant every query and event is keyed by
	Roles        []string  // what the caller may do (RoleBuyer, ...)
}

// The roles of the APIs: who may change what. Any principal of an
// organization may read it.
const (
	RoleBuyer     = "buyer"     // purchase orders
	RoleSales     = "sales"     // sales orders
	RolePlanner   = "planner"   // buffer profiles
	RoleWarehouse = "warehouse" // receipts, shipments, adjustments
)

// Has reports whether p has role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// Authenticator verifies who a request comes from. A refusal is a
// *problem.Error of kind Unauthenticated (401).
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

type principalKey struct{}

// Identity authenticates every request with auth, takes X-Correlation-ID
// or makes a new one, echoes the correlation id in the response, and puts
// the principal and, with bus.WithCorrelation, its organization and the
// correlation id in the request's context, so that every event the
// request causes carries them.
func Identity(auth Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="giia"`)
			WriteError(w, r, err)
			return
		}
		corr := strings.TrimSpace(r.Header.Get(HeaderCorrelationID))
		switch {
		case corr == "":
			corr = uuid.NewString()
		case len(corr) > MaxCorrelationID:
			WriteError(w, r, problem.Invalidf(HeaderCorrelationID, "must be at most %d bytes, got %d", MaxCorrelationID, len(corr)))
			return
		}
		w.Header().Set(HeaderCorrelationID, corr)
		ctx := context.WithValue(r.Context(), principalKey{}, p)
		next.ServeHTTP(w, r.WithContext(bus.WithCorrelation(ctx, p.Organization, corr)))
	})
}

// Identified serves mux's routes behind Identity, and a request no route
// of mux has (its "/" pattern, a 404, or a 405) without asking for an
// identity: an unknown path is 404 whatever its headers.
func Identified(auth Authenticator, mux *http.ServeMux) http.Handler {
	identified := Identity(auth, mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" || pattern == "/" {
			mux.ServeHTTP(w, r)
			return
		}
		identified.ServeHTTP(w, r)
	})
}

// Require serves h only to a principal with role: 403 otherwise.
func Require(role string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := PrincipalOf(r); !p.Has(role) {
			WriteError(w, r, &problem.Error{Kind: problem.Forbidden, Message: "this needs the role " + role})
			return
		}
		h(w, r)
	}
}

// PrincipalOf returns the principal Identity put in r's context.
func PrincipalOf(r *http.Request) Principal {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return p
}

// Organization returns the organization of the request's principal.
func Organization(r *http.Request) uuid.UUID { return PrincipalOf(r).Organization }
