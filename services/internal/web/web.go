// Package web holds the HTTP plumbing both services share: the identity
// middleware that turns a verified caller (see Authenticator) and
// X-Correlation-ID into the request's bus correlation, roles, strict JSON
// decoding, and the JSON error body
// {"error": {"field": "...", "message": "..."}}.
package web

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/services/internal/problem"
)

// HeaderCorrelationID names the chain of events a request starts.
const HeaderCorrelationID = "X-Correlation-ID"

// MaxCorrelationID is the longest correlation id accepted, the envelope's
// limit.
const MaxCorrelationID = 128

// MaxBody is the largest request body read.
const MaxBody = 1 << 20

// Decode reads the request's JSON body into v, as strictly as the wire
// decoder reads an event: a body of Content-Type application/json, valid
// UTF-8, one JSON value, no unknown keys, no key repeated in an object,
// no key that matches a field only when case is ignored. An empty body
// decodes as {} when allowEmpty is set. A refusal is a *problem.Error
// naming the offending field.
func Decode(r *http.Request, v any, allowEmpty bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return problem.Invalidf("", "request body is larger than %d bytes", MaxBody)
		}
		return problem.Invalidf("", "cannot read the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if !allowEmpty {
			return problem.Invalidf("", "request body is required: a JSON object")
		}
		body = []byte("{}")
		r.Header.Set("Content-Type", "application/json")
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		return &problem.Error{Kind: problem.Unsupported, Field: "Content-Type",
			Message: fmt.Sprintf("the request body must be application/json, not %q", ct)}
	}
	if err := strict(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if dec.More() {
		return problem.Invalidf("", "malformed JSON: data after the top-level object")
	}
	return nil
}

// isJSON reports whether a Content-Type header is application/json, with
// or without parameters such as charset=utf-8.
func isJSON(contentType string) bool {
	media, _, err := mime.ParseMediaType(contentType)
	return err == nil && media == "application/json"
}

func decodeProblem(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return problem.Invalidf("", "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return problem.Invalidf("", "must be a JSON object, got %s", typ.Value)
		}
		return problem.Invalidf(field, "must be %s, got %s", jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Invalidf("", "malformed JSON: unexpected end of input")
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		return problem.Invalidf(strings.Trim(strings.TrimPrefix(msg, unknown), `"`), "unknown field")
	}
	var p *problem.Error
	if errors.As(err, &p) {
		return p
	}
	return problem.Invalidf("", "malformed JSON: %v", err)
}

// jsonKind names the JSON value a Go type decodes from, for messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// PathUUID returns the UUID in the request path's wildcard name.
func PathUUID(r *http.Request, name string) (uuid.UUID, error) {
	raw := r.PathValue(name)
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, problem.Invalidf(name, "must be a UUID, got %q", raw)
	}
	return id, nil
}

// QueryUUID returns the UUID in query parameter name, or uuid.Nil when it
// is absent.
func QueryUUID(r *http.Request, name string) (uuid.UUID, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, problem.Invalidf(name, "must be a UUID, got %q", raw)
	}
	return id, nil
}

// WriteJSON writes v as the JSON response with status. v is encoded
// before anything is written: a value that cannot be encoded (a
// non-finite number, say) is a 500 with an error body, logged, never a
// status with an empty or cut body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		slog.Error("response not encodable", "status", status, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(ErrorBody{Error: ErrorDetail{Message: "internal error: the response could not be encoded"}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorBody is the JSON body of every refused request.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the field at fault ("" for the whole request) and the
// problem.
type ErrorDetail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Status returns the HTTP status of a problem kind.
func Status(k problem.Kind) int {
	switch k {
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Conflict:
		return http.StatusConflict
	case problem.Unsupported:
		return http.StatusUnsupportedMediaType
	case problem.Unauthenticated:
		return http.StatusUnauthorized
	case problem.Forbidden:
		return http.StatusForbidden
	case problem.TooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusBadRequest
	}
}

// WriteError writes err as the JSON error body: a *problem.Error with its
// status, anything else as a 500 that is logged, not shown.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if p, ok := problem.As(err); ok {
		WriteJSON(w, Status(p.Kind), ErrorBody{Error: ErrorDetail{Field: p.Field, Message: p.Message}})
		return
	}
	_, corr, _ := bus.CorrelationFrom(r.Context())
	slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "correlation_id", corr, "err", err)
	WriteJSON(w, http.StatusInternalServerError, ErrorBody{Error: ErrorDetail{Message: fmt.Sprintf("internal error (correlation id %s)", corr)}})
}

// NotFound answers every request no route matched with a JSON 404.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, problem.NotFoundf("", "no route for %s %s", r.Method, r.URL.Path))
}
