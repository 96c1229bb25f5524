package payload

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The JSON pointers of failing values and the violations found there.

// Path is the JSON pointer of a value being validated, built on the stack
// as the validator descends: each level points to its parent. A nil *Path
// is the whole document.
type Path struct {
	parent *Path
	key    string
	index  int
	item   bool
}

// Member returns the path of the member key of the object at p.
func (p *Path) Member(key string) Path { return Path{parent: p, key: key} }

// Item returns the path of item i of the array at p.
func (p *Path) Item(i int) Path { return Path{parent: p, index: i, item: true} }

// String returns the JSON pointer, its tokens escaped as jsonschema/v5
// escapes them ("~" and "/" as "~0" and "~1", then URL path escaping).
func (p *Path) String() string {
	if p == nil {
		return ""
	}
	// Nothing read from a level may be kept but copied bytes: the levels
	// live on their validators' stacks, and must stay there (escape
	// analysis cannot tell one field from another).
	depth := 0
	for q := p; q != nil; q = q.parent {
		depth++
	}
	var b strings.Builder
	for i := depth - 1; i >= 0; i-- {
		q := p
		for range i {
			q = q.parent
		}
		b.WriteByte('/')
		if q.item {
			b.WriteString(strconv.Itoa(q.index))
		} else {
			b.WriteString(EscapeToken(q.key))
		}
	}
	return b.String()
}

// EscapeToken escapes a key for a JSON pointer (RFC 6901): ~ as ~0, / as ~1.
func EscapeToken(token string) string {
	token = strings.ReplaceAll(token, "~", "~0")
	token = strings.ReplaceAll(token, "/", "~1")
	return url.PathEscape(token)
}

// Violations collects the violations a generated validator finds.
type Violations struct {
	list []Violation
}

// Add records that the value at at breaks a constraint.
func (v *Violations) Add(at *Path, msg string) {
	v.list = append(v.list, Violation{Pointer: at.String(), Message: msg})
}

// Addf is Add with a formatted message.
func (v *Violations) Addf(at *Path, format string, args ...any) {
	v.Add(at, fmt.Sprintf(format, args...))
}

// Len returns the number of violations recorded.
func (v *Violations) Len() int { return len(v.list) }

// Err returns nil when nothing was recorded, else a *ValidationError for
// subject listing the violations sorted by pointer, then message, without
// repeats.
func (v *Violations) Err(subject string) error {
	if len(v.list) == 0 {
		return nil
	}
	list := slices.Clone(v.list)
	sort.Slice(list, func(i, j int) bool {
		if list[i].Pointer != list[j].Pointer {
			return list[i].Pointer < list[j].Pointer
		}
		return list[i].Message < list[j].Message
	})
	return &ValidationError{Subject: subject, Violations: slices.Compact(list)}
}

// CheckEncoded checks the JSON encoding of value with check, a generated
// validator of raw JSON, recording what it finds at at. Generated Validate
// methods use it for a value whose Go type cannot carry its schema's
// constraints (an untyped value, a const object...).
func (v *Violations) CheckEncoded(at *Path, value any, check func(*JSONScanner, *Path)) {
	data, err := json.Marshal(value)
	if err != nil {
		v.Add(at, "cannot be encoded as JSON: "+err.Error())
		return
	}
	var s JSONScanner
	s.Reset(data)
	check(&s, at)
	v.list = append(v.list, s.list...)
}

// QuoteList returns the names quoted and joined by commas, for messages.
func QuoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
