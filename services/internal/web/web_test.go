package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/authn"
	"github.com/giia/events/services/internal/problem"
	"github.com/giia/events/services/internal/web"
)

func errorBody(t *testing.T, rec *httptest.ResponseRecorder) web.ErrorDetail {
	t.Helper()
	var b web.ErrorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), rec.Body.String())
	return b.Error
}

func TestIdentity(t *testing.T) {
	issuer, err := authn.NewDevIssuer(filepath.Join(t.TempDir(), "jwks.json"))
	require.NoError(t, err)
	verifier, err := authn.New(context.Background(), issuer.Config())
	require.NoError(t, err)
	org := uuid.New()
	var got web.Principal
	var gotOrg uuid.UUID
	var gotCorr string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things", func(w http.ResponseWriter, r *http.Request) {
		got, gotOrg = web.PrincipalOf(r), web.Organization(r)
		_, gotCorr, _ = bus.CorrelationFrom(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /things", web.Require(web.RolePlanner, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	mux.HandleFunc("/", web.NotFound)
	h := web.Identified(verifier, mux)
	token := func(roles ...string) string {
		tok, err := issuer.Token("alice", org, time.Minute, roles...)
		require.NoError(t, err)
		return "Bearer " + tok
	}
	serve := func(method, path string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := serve(http.MethodGet, "/things", "Authorization", token(web.RoleBuyer), "X-Correlation-ID", "abc")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, org, gotOrg)
	assert.Equal(t, web.Principal{Subject: "alice", Organization: org, Roles: []string{web.RoleBuyer}}, got)
	assert.Equal(t, "abc", gotCorr)
	assert.Equal(t, "abc", rec.Header().Get("X-Correlation-ID"))

	rec = serve(http.MethodGet, "/things", "Authorization", token(), "X-Organization-ID", uuid.NewString())
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, org, gotOrg, "the organization is the token's, never a header's")
	_, err = uuid.Parse(gotCorr)
	assert.NoError(t, err, "a new correlation id is a UUID")
	assert.Equal(t, gotCorr, rec.Header().Get("X-Correlation-ID"))

	assert.Equal(t, http.StatusCreated, serve(http.MethodPost, "/things", "Authorization", token(web.RolePlanner)).Code)
	rec = serve(http.MethodPost, "/things", "Authorization", token(web.RoleBuyer, web.RoleWarehouse))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, errorBody(t, rec).Message, "planner")
	assert.Equal(t, http.StatusNotFound, serve(http.MethodGet, "/nowhere").Code, "an unknown path is 404 without a token")

	for _, tt := range []struct {
		headers []string
		status  int
		field   string
	}{
		{nil, http.StatusUnauthorized, "Authorization"},
		{[]string{"Authorization", "Basic YTpi"}, http.StatusUnauthorized, "Authorization"},
		{[]string{"Authorization", "Bearer not.a.token"}, http.StatusUnauthorized, "Authorization"},
		{[]string{"Authorization", token(), "X-Correlation-ID", strings.Repeat("c", 129)}, http.StatusBadRequest, "X-Correlation-ID"},
	} {
		rec := serve(http.MethodGet, "/things", tt.headers...)
		assert.Equal(t, tt.status, rec.Code, tt.headers)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assert.Equal(t, tt.field, errorBody(t, rec).Field)
		if tt.status == http.StatusUnauthorized {
			assert.Equal(t, `Bearer realm="giia"`, rec.Header().Get("WWW-Authenticate"))
		}
	}
}

type target struct {
	Name  *string           `json:"name"`
	Qty   *float64          `json:"qty"`
	Done  *bool             `json:"done"`
	Tags  []string          `json:"tags"`
	Inner *struct{ A int }  `json:"inner"`
	Attrs map[string]string `json:"attrs"`
}

func TestDecode(t *testing.T) {
	decode := func(body string, allowEmpty bool) (target, error) {
		var v target
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return v, web.Decode(req, &v, allowEmpty)
	}
	v, err := decode(`{"name": "x", "qty": 2}`, false)
	require.NoError(t, err)
	assert.Equal(t, "x", *v.Name)
	_, err = decode("  ", true)
	assert.NoError(t, err)

	for _, tt := range []struct {
		body, field, message string
	}{
		{"", "", "required"},
		{`{"name": 1}`, "name", "must be a string"},
		{`{"qty": "1"}`, "qty", "must be a number"},
		{`{"done": 1}`, "done", "must be a boolean"},
		{`{"tags": 1}`, "tags", "must be an array"},
		{`{"inner": 1}`, "inner", "must be an object"},
		{`"text"`, "", "must be a JSON object"},
		{`{"colour": 1}`, "colour", "unknown field"},
		{`{"name": "x"`, "", "unexpected end"},
		{`{"name" "x"}`, "", "malformed JSON at byte"},
		{`{} []`, "", "after the top-level object"},
		{`{"name": "` + strings.Repeat("x", web.MaxBody) + `"}`, "", "larger than"},
		// As strict as the wire: what encoding/json would read as another
		// document.
		{`{"qty": 1, "qty": 99999}`, "qty", "repeated key"},
		{`{"inner": {"A": 1, "A": 2}}`, "inner.A", "repeated key"},
		{`{"tags": ["a"], "attrs": {"k": "1", "k": "2"}}`, "attrs.k", "repeated key"},
		{`{"Qty": 1}`, "Qty", `case-sensitive: did you mean "qty"?`},
		{`{"inner": {"a": 1}}`, "inner.a", `did you mean "A"?`},
		{"{\"name\": \"caf\xe9\"}", "", "not valid UTF-8"},
	} {
		_, err := decode(tt.body, false)
		p, ok := problem.As(err)
		require.True(t, ok, "%q: %v", tt.body[:min(len(tt.body), 20)], err)
		assert.Equal(t, problem.Invalid, p.Kind)
		assert.Equal(t, tt.field, p.Field, tt.body[:min(len(tt.body), 20)])
		assert.Contains(t, p.Message, tt.message)
	}
}

func TestWriteError(t *testing.T) {
	for kind, status := range map[problem.Kind]int{problem.Invalid: 400, problem.NotFound: 404, problem.Conflict: 409} {
		rec := httptest.NewRecorder()
		web.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), &problem.Error{Kind: kind, Field: "f", Message: "m"})
		assert.Equal(t, status, rec.Code)
		assert.Equal(t, web.ErrorDetail{Field: "f", Message: "m"}, errorBody(t, rec))
	}
	// Anything else is a 500 that names the correlation id, not the cause.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(bus.WithCorrelation(req.Context(), uuid.New(), "corr-7"))
	rec := httptest.NewRecorder()
	web.WriteError(rec, req, errors.New("disk on fire"))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	body := errorBody(t, rec)
	assert.Contains(t, body.Message, "corr-7")
	assert.NotContains(t, body.Message, "disk")

	rec = httptest.NewRecorder()
	web.NotFound(rec, httptest.NewRequest(http.MethodDelete, "/x", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Contains(t, errorBody(t, rec).Message, "DELETE /x")
}

func TestPathAndQuery(t *testing.T) {
	id := uuid.New()
	mux := http.NewServeMux()
	var got uuid.UUID
	var err error
	mux.HandleFunc("/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		got, err = web.PathUUID(r, "id")
	})
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/things/"+id.String(), nil))
	require.NoError(t, err)
	assert.Equal(t, id, got)
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/things/42", nil))
	assert.Error(t, err)

	q, err := web.QueryUUID(httptest.NewRequest(http.MethodGet, "/?a="+id.String(), nil), "a")
	require.NoError(t, err)
	assert.Equal(t, id, q)
	q, err = web.QueryUUID(httptest.NewRequest(http.MethodGet, "/", nil), "a")
	require.NoError(t, err)
	assert.Equal(t, uuid.Nil, q)
	_, err = web.QueryUUID(httptest.NewRequest(http.MethodGet, "/?a=1", nil), "a")
	assert.Error(t, err)
}

func TestFields(t *testing.T) {
	s := func(v string) *string { return &v }
	id := uuid.New()

	got, err := web.RequiredUUID("f", s(id.String()))
	require.NoError(t, err)
	assert.Equal(t, id, got)
	for _, v := range []*string{nil, s("x"), s(uuid.Nil.String())} {
		_, err := web.RequiredUUID("f", v)
		assert.Error(t, err)
	}
	opt, err := web.OptionalUUID("f", nil)
	require.NoError(t, err)
	assert.Nil(t, opt)
	opt, err = web.OptionalUUID("f", s(id.String()))
	require.NoError(t, err)
	assert.Equal(t, &id, opt)
	_, err = web.OptionalUUID("f", s("x"))
	assert.Error(t, err)

	d, err := web.RequiredDate("f", s("2026-11-27"))
	require.NoError(t, err)
	assert.Equal(t, payload.Date{Year: 2026, Month: 11, Day: 27}, d)
	_, err = web.RequiredDate("f", nil)
	assert.Error(t, err)
	_, err = web.RequiredDate("f", s("tomorrow"))
	assert.Error(t, err)

	n := 2.5
	x, err := web.RequiredNumber("f", &n)
	require.NoError(t, err)
	assert.Equal(t, 2.5, x)
	_, err = web.RequiredNumber("f", nil)
	assert.Error(t, err)
	i := 3
	y, err := web.RequiredInt("f", &i)
	require.NoError(t, err)
	assert.Equal(t, 3, y)
	_, err = web.RequiredInt("f", nil)
	assert.Error(t, err)
	z, err := web.RequiredString("f", s("a"))
	require.NoError(t, err)
	assert.Equal(t, "a", z)
	_, err = web.RequiredString("f", nil)
	p, ok := problem.As(err)
	require.True(t, ok)
	assert.Equal(t, "f", p.Field)
}

// TestDecodeContentType: a body must say it is JSON (parameters allowed);
// an empty body allowed empty needs no type.
func TestDecodeContentType(t *testing.T) {
	for ct, ok := range map[string]bool{"application/json": true, "application/json; charset=utf-8": true, "": false, "text/plain": false, "application/jsonx": false} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name": "x"}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		var v target
		err := web.Decode(req, &v, false)
		if ok {
			assert.NoError(t, err, ct)
			continue
		}
		p, isProblem := problem.As(err)
		require.True(t, isProblem, ct)
		assert.Equal(t, problem.Unsupported, p.Kind, ct)
		assert.Equal(t, "Content-Type", p.Field)
		assert.Equal(t, http.StatusUnsupportedMediaType, web.Status(p.Kind))
	}
	var v target
	assert.NoError(t, web.Decode(httptest.NewRequest(http.MethodPost, "/", nil), &v, true))
}

func TestDecodeTextTypes(t *testing.T) {
	var v struct {
		ID   *uuid.UUID   `json:"id"`
		Date payload.Date `json:"date"`
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"id": 5}`))
	req.Header.Set("Content-Type", "application/json")
	p, ok := problem.As(web.Decode(req, &v, false))
	require.True(t, ok)
	assert.Equal(t, "id", p.Field)
	assert.Contains(t, p.Message, "must be a string")
}

// TestWriteJSONUnencodable: a value JSON cannot carry is a 500 with a
// body, not a 200 with none.
func TestWriteJSONUnencodable(t *testing.T) {
	rec := httptest.NewRecorder()
	web.WriteJSON(rec, http.StatusOK, map[string]float64{"on_order": math.Inf(1)})
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, errorBody(t, rec).Message, "could not be encoded")
	assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
}
