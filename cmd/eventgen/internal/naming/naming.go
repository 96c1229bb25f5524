// Package naming computes every Go identifier that eventgen emits. It is
// the one place where schema and catalog names become Go names, so that the
// same input always yields the same name and a change of convention is made
// once.
package naming

import (
	"go/token"
	"strings"
	"unicode"
	"unicode/utf8"
)

// initialisms are written in capitals in Go names (Go's convention:
// PurchaseOrderID, not PurchaseOrderId). The list is fixed on purpose: a
// name never depends on anything but its input.
var initialisms = set(
	"ACL", "ADU", "AI", "API", "ASCII", "CPU", "CSS", "CSV", "DDMRP",
	"DLT", "DNS", "EA", "EOF", "ERP", "ETA", "GUID", "HTML", "HTTP",
	"HTTPS", "ID", "IP", "JSON", "KG", "KPI", "LHS", "MOQ", "MRP", "NATS",
	"OK", "QPS", "RAM", "RHS", "RPC", "SKU", "SLA", "SMTP", "SQL", "SSH",
	"TCP", "TLS", "TOG", "TOR", "TOY", "TTL", "UDP", "UI", "UID", "UOM",
	"URI", "URL", "UTC", "UTF8", "UUID", "VM", "XML", "XMPP", "XSRF",
	"XSS",
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// IsInitialism reports whether word (any case) is written in capitals in a
// Go name.
func IsInitialism(word string) bool { return initialisms[strings.ToUpper(word)] }

// Words splits s into its words: runs of letters and digits, broken at
// every other character and where a lower-case letter or a digit is
// followed by an upper-case one ("purchaseOrderId" has three words).
func Words(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return words
}

// CamelCase returns the exported Go spelling of s: each word capitalised,
// initialisms in capitals, separators dropped. "purchase_order_id" is
// "PurchaseOrderID", "ai-hub" is "AIHub", "ddmrp" is "DDMRP", "skus" is
// "SKUs". The result
// is empty when s has no letter or digit, and may start with a digit; use
// Exported to check that it is a usable identifier.
func CamelCase(s string) string {
	var b strings.Builder
	for _, w := range Words(s) {
		if IsInitialism(w) {
			b.WriteString(strings.ToUpper(w))
			continue
		}
		if n := len(w); n > 2 && (w[n-1] == 's' || w[n-1] == 'S') && IsInitialism(w[:n-1]) {
			// The plural of an initialism: "ids" is "IDs", "skus" is "SKUs".
			b.WriteString(strings.ToUpper(w[:n-1]) + "s")
			continue
		}
		r, n := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(strings.ToLower(w[n:]))
	}
	return b.String()
}

// Exported reports whether name is a valid exported Go identifier.
func Exported(name string) bool {
	return token.IsIdentifier(name) && token.IsExported(name)
}

// Singular returns a naive singular of an English plural word written in
// CamelCase, used to name the element type of an array property ("Lines"
// gives "Line", "Categories" gives "Category"). Only the last word changes,
// and only in these cases: "ies" becomes "y"; the "s" of an initialism's
// plural ("SKUs") is dropped; a final "s" is dropped unless the word ends in
// "ss", "us" or "is". Anything else is returned unchanged.
func Singular(name string) string {
	lower := strings.ToLower(name)
	switch {
	case len(name) > 3 && strings.HasSuffix(lower, "ies"):
		if strings.HasSuffix(name, "IES") {
			return name[:len(name)-3] + "Y"
		}
		return name[:len(name)-3] + "y"
	case len(name) > 1 && name[len(name)-1] == 's' && unicode.IsUpper(rune(name[len(name)-2])):
		// An initialism in the plural: "SKUs" (from "skus") is "SKU".
		return name[:len(name)-1]
	case len(name) > 1 && strings.HasSuffix(lower, "s") &&
		!strings.HasSuffix(lower, "ss") && !strings.HasSuffix(lower, "us") && !strings.HasSuffix(lower, "is"):
		return name[:len(name)-1]
	}
	return name
}
