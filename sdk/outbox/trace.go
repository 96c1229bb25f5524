package outbox

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
)

// storeTrace returns the trace context of an event (bus.Encoded.Trace) as
// its row keeps it, JSON; NULL when there is none.
func storeTrace(h nats.Header) sql.NullString {
	if len(h) == 0 {
		return sql.NullString{}
	}
	data, err := json.Marshal(h)
	if err != nil {
		return sql.NullString{} // a map of strings always encodes
	}
	return sql.NullString{String: string(data), Valid: true}
}

// restoreTrace returns the headers storeTrace stored.
func restoreTrace(stored string) (nats.Header, error) {
	var h nats.Header
	if err := json.Unmarshal([]byte(stored), &h); err != nil {
		return nil, fmt.Errorf("stored trace headers %q: %w", stored, err)
	}
	return h, nil
}

// maxErrorLen bounds the last error a row records.
const maxErrorLen = 2048

// truncate cuts s to at most n bytes, at a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
