package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/giia/events/services/internal/problem"
)

// The page sizes of the list endpoints.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
)

// Page is a page of a list endpoint, from ?limit= and ?after=: at most
// Limit items after the one whose sort key is After (nil: from the
// start). The next page's cursor is Cursor of the last item's key.
type Page struct {
	After []string
	Limit int
}

// PageOf reads the request's page: limit from 1 to MaxPageSize (default
// DefaultPageSize), after a cursor a previous page returned as next.
func PageOf(r *http.Request) (Page, error) {
	p := Page{Limit: DefaultPageSize}
	q := r.URL.Query()
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, problem.Invalidf("limit", "must be an integer from 1 to %d, got %q", MaxPageSize, raw)
		}
		p.Limit = n
	}
	if raw := q.Get("after"); raw != "" {
		data, err := base64.RawURLEncoding.DecodeString(raw)
		if err == nil {
			err = json.Unmarshal(data, &p.After)
		}
		if err != nil || len(p.After) == 0 {
			return p, problem.Invalidf("after", "must be the next cursor of a previous page, got %q", raw)
		}
	}
	return p, nil
}

// Cursor is the cursor of the page after the item whose sort key is key.
func Cursor(key ...string) string {
	data, _ := json.Marshal(key) // strings always encode
	return base64.RawURLEncoding.EncodeToString(data)
}

// WritePage writes a page of a list: the items under name, and next, the
// cursor of the following page, when the page is full (a full last page
// gives a next that returns no items).
func WritePage[T any](w http.ResponseWriter, p Page, name string, items []T, key func(T) []string) {
	body := map[string]any{name: items}
	if len(items) == p.Limit && len(items) > 0 {
		body["next"] = Cursor(key(items[len(items)-1])...)
	}
	WriteJSON(w, http.StatusOK, body)
}
