package payload

// The run-time half of the validators eventgen generates: a JSON scanner
// that checks syntax exactly as encoding/json does while the generated code
// walks the document, the JSON pointers of failing values, exact decimal
// arithmetic for number constraints, the canonical form of a JSON value for
// const, enum and uniqueItems, and the format checkers. Everything here
// gives the verdict jsonschema/v5 gives (with AssertFormat on) on the same
// input; the differential tests of cmd/eventgen/internal/emit and the fuzz
// tests of sdk/events hold it to that.
//
// None of it is meant to be called by hand: generated code is its only
// client, and its API may change with the generator.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// JSONKind is the kind of a JSON value.
type JSONKind uint8

// The kinds of JSON values. JSONInvalid is what JSONScanner.Value returns
// on a syntax error.
const (
	JSONInvalid JSONKind = iota
	JSONNull
	JSONBool
	JSONNumber
	JSONString
	JSONArray
	JSONObject
)

var jsonKindNames = [...]string{"invalid JSON", "null", "boolean", "number", "string", "array", "object"}

// String returns the JSON Schema name of the kind ("object", "number"...).
func (k JSONKind) String() string {
	if int(k) < len(jsonKindNames) {
		return jsonKindNames[k]
	}
	return "JSONKind(" + strconv.Itoa(int(k)) + ")"
}

// maxJSONDepth is encoding/json's limit on nested objects and arrays.
const maxJSONDepth = 10000

// JSONScanner reads one JSON document for a generated validator and
// collects the violations it reports. It checks the syntax of everything
// it reads or skips exactly as encoding/json does; a syntax error anywhere
// makes the document invalid as a whole, whatever else was found.
//
// The generated code reads a value with Value and then, for an object,
// loops over Member, for an array over Element, reading or skipping each
// member's value in turn; Skip and SkipContainer pass over values it does
// not look into. The zero JSONScanner is ready after Reset.
type JSONScanner struct {
	data  []byte
	pos   int
	depth int
	first bool // just inside an object or array: no comma expected yet

	kind      JSONKind // of the last Value
	tok, end  int      // the last scalar: a string's bytes between the quotes, a number, a literal
	escaped   bool     // the last string has escapes or invalid UTF-8: Str decodes it
	boolValue bool
	key       string

	errMsg string // the first syntax error
	failed bool
	dup    bool // an object repeats a key whose value matters

	keys  []string // the keys of open objects, for NoteKey
	sets  []keySet // the large ones, hashed
	items []int    // start and end offsets of array items, for UniqueItems

	Violations
}

type keySet struct {
	mark int
	m    map[string]struct{}
}

// Reset starts reading data.
func (s *JSONScanner) Reset(data []byte) {
	*s = JSONScanner{data: data, keys: s.keys[:0], items: s.items[:0]}
}

// Pos returns the offset of the scanner in the document.
func (s *JSONScanner) Pos() int { return s.pos }

// Seek moves the scanner to an offset that Pos returned, to read a value
// again (an in-place subschema, $ref or allOf, checks the same value as its
// parent).
func (s *JSONScanner) Seek(pos int) {
	s.pos = pos
	s.first = false
}

// Failed reports whether a syntax error was found.
func (s *JSONScanner) Failed() bool { return s.failed }

func (s *JSONScanner) syntaxError(format string, args ...any) {
	if !s.failed {
		s.failed = true
		s.errMsg = fmt.Sprintf(format, args...)
	}
	s.kind = JSONInvalid
}

func (s *JSONScanner) unexpected(context string) {
	if s.pos >= len(s.data) {
		s.syntaxError("unexpected end of JSON input")
		return
	}
	s.syntaxError("invalid character %s %s", quoteChar(s.data[s.pos:]), context)
}

func quoteChar(b []byte) string {
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf(`'\x%02x'`, b[0])
	}
	q := strconv.QuoteRune(r)
	return q
}

func (s *JSONScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// Value reads the next value's kind. A string, number or literal is read
// whole (Str, Num and Bool return it); for an object or an array Value
// reads the opening bracket, and the caller loops over Member or Element,
// or calls SkipContainer. On a syntax error it returns JSONInvalid.
func (s *JSONScanner) Value() JSONKind {
	if s.failed {
		return JSONInvalid
	}
	s.first = false
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.unexpected("")
		return JSONInvalid
	}
	switch c := s.data[s.pos]; {
	case c == '{' || c == '[':
		if s.depth++; s.depth > maxJSONDepth {
			s.syntaxError("exceeded max depth")
			return JSONInvalid
		}
		s.pos++
		s.first = true
		if c == '{' {
			s.kind = JSONObject
		} else {
			s.kind = JSONArray
		}
	case c == '"':
		if s.scanString() {
			s.kind = JSONString
		}
	case c == '-' || c >= '0' && c <= '9':
		if s.scanNumber() {
			s.kind = JSONNumber
		}
	case c == 't':
		if s.scanLiteral("true") {
			s.kind, s.boolValue = JSONBool, true
		}
	case c == 'f':
		if s.scanLiteral("false") {
			s.kind, s.boolValue = JSONBool, false
		}
	case c == 'n':
		if s.scanLiteral("null") {
			s.kind = JSONNull
		}
	default:
		s.unexpected("looking for beginning of value")
	}
	return s.kind
}

func (s *JSONScanner) scanLiteral(word string) bool {
	for i := 0; i < len(word); i++ {
		if s.pos >= len(s.data) || s.data[s.pos] != word[i] {
			s.unexpected("in literal " + word)
			return false
		}
		s.pos++
	}
	return true
}

// scanString reads a string at s.pos (on its opening quote), checking its
// escapes and control characters.
func (s *JSONScanner) scanString() bool {
	s.pos++
	s.tok = s.pos
	s.escaped = false
	data := s.data
	for i := s.pos; i < len(data); {
		for i < len(data) && plainByte[data[i]] {
			i++
		}
		if i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			s.end = i
			s.pos = i + 1
			return true
		case c == '\\':
			s.escaped = true
			if i+1 >= len(data) {
				s.pos = len(data)
				s.unexpected("")
				return false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := 2; j < 6; j++ {
					if i+j >= len(data) || !isHex(data[i+j]) {
						s.pos = min(i+j, len(data))
						s.unexpected("in \\u hexadecimal character escape")
						return false
					}
				}
				i += 6
			default:
				s.pos = i + 1
				s.unexpected("in string escape code")
				return false
			}
		case c < ' ':
			s.pos = i
			s.unexpected("in string literal")
			return false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				s.escaped = true // encoding/json turns it into U+FFFD
			}
			i += size
		}
	}
	s.pos = len(data)
	s.unexpected("")
	return false
}

// plainByte tells the bytes a string holds as they are: printable ASCII
// but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber reads a number at s.pos, checking its syntax.
func (s *JSONScanner) scanNumber() bool {
	data := s.data
	i := s.pos
	s.tok = i
	if data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		digits()
	default:
		s.pos = i
		s.unexpected("in numeric literal")
		return false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			s.pos = i
			s.unexpected("after decimal point in numeric literal")
			return false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.pos = i
			s.unexpected("in exponent of numeric literal")
			return false
		}
	}
	s.pos, s.end = i, i
	return true
}

// Str returns the string Value read, decoded as encoding/json decodes it
// (invalid UTF-8 and lone surrogates become U+FFFD). The result may share
// memory with the document: it is valid while the document is.
func (s *JSONScanner) Str() string {
	if !s.escaped {
		if s.end == s.tok {
			return ""
		}
		return unsafe.String(&s.data[s.tok], s.end-s.tok)
	}
	return decodeJSONString(s.data[s.tok:s.end])
}

// Num returns the text of the number Value read.
func (s *JSONScanner) Num() []byte { return s.data[s.tok:s.end] }

// Bool returns the boolean Value read.
func (s *JSONScanner) Bool() bool { return s.boolValue }

// Kind returns the kind of the last Value read.
func (s *JSONScanner) Kind() JSONKind { return s.kind }

// member reads the next key of the object being read, undecoded.
func (s *JSONScanner) member() bool {
	if s.failed {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.unexpected("")
		return false
	}
	c := s.data[s.pos]
	if s.first {
		s.first = false
	} else if c != '}' {
		if c != ',' {
			s.unexpected("after object key:value pair")
			return false
		}
		s.pos++
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.unexpected("")
			return false
		}
		c = s.data[s.pos]
		if c != '"' {
			s.unexpected("looking for beginning of object key string")
			return false
		}
	}
	if c == '}' {
		s.pos++
		s.depth--
		return false
	}
	if c != '"' {
		s.unexpected("looking for beginning of object key string")
		return false
	}
	if !s.scanString() {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		s.unexpected("after object key")
		return false
	}
	s.pos++
	return true
}

// Member moves to the next member of the object being read: it returns
// true with Key set, before the member's value, which the caller must read
// or skip; false after the closing brace or on a syntax error.
func (s *JSONScanner) Member() bool {
	if !s.member() {
		return false
	}
	s.key = s.Str()
	return true
}

// Key returns the key of the member Member moved to. Like Str, it may
// share memory with the document.
func (s *JSONScanner) Key() string { return s.key }

// Element moves to the next element of the array being read: it returns
// true before the element, which the caller must read or skip; false after
// the closing bracket or on a syntax error.
func (s *JSONScanner) Element() bool {
	if s.failed {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.unexpected("")
		return false
	}
	c := s.data[s.pos]
	if c == ']' {
		s.first = false
		s.pos++
		s.depth--
		return false
	}
	if s.first {
		s.first = false
		return true
	}
	if c != ',' {
		s.unexpected("after array element")
		return false
	}
	s.pos++
	return true
}

// Skip reads the next value whole without looking into it.
func (s *JSONScanner) Skip() {
	switch s.Value() {
	case JSONObject, JSONArray:
		s.SkipContainer()
	}
}

// SkipContainer reads the rest of the object or array whose opening
// bracket Value just read.
func (s *JSONScanner) SkipContainer() {
	switch s.kind {
	case JSONObject:
		for s.member() {
			s.Skip()
		}
	case JSONArray:
		for s.Element() {
			s.Skip()
		}
	}
	s.first = false
}

// Fail records that the value at at breaks a constraint.
func (s *JSONScanner) Fail(at *Path, msg string) { s.Violations.Add(at, msg) }

// Failf is Fail with a formatted message.
func (s *JSONScanner) Failf(at *Path, format string, args ...any) {
	s.Violations.Add(at, fmt.Sprintf(format, args...))
}

// TypeError records that the value Value just read is not of the wanted
// type, and skips the rest of it. After a syntax error it does nothing.
func (s *JSONScanner) TypeError(at *Path, want string) {
	k := s.kind
	if k == JSONInvalid {
		return
	}
	s.Violations.Add(at, "want "+want+", got "+k.String())
	if k == JSONObject || k == JSONArray {
		s.SkipContainer()
	}
}

// Duplicate records that an object repeats a key whose value matters. For
// such a document the generated code's verdict is not used: Finish checks it
// with the compiled schema, which sees the last value of each key, as
// encoding/json decodes it.
func (s *JSONScanner) Duplicate() { s.dup = true }

// Seen records that a key the generated code knows was read, in *seen; a
// key read twice is a Duplicate.
func (s *JSONScanner) Seen(seen *bool) {
	if *seen {
		s.dup = true
	}
	*seen = true
}

// KeyMark starts the key set of an object, for NoteKey.
func (s *JSONScanner) KeyMark() int { return len(s.keys) }

// NoteKey adds key to the key set that began at mark; a key already in it
// is a Duplicate.
func (s *JSONScanner) NoteKey(mark int, key string) {
	if n := len(s.sets); n > 0 && s.sets[n-1].mark == mark {
		m := s.sets[n-1].m
		if _, ok := m[key]; ok {
			s.dup = true
			return
		}
		m[key] = struct{}{}
		return
	}
	keys := s.keys[mark:]
	if slices.Contains(keys, key) {
		s.dup = true
		return
	}
	if len(keys) < 32 {
		s.keys = append(s.keys, key)
		return
	}
	m := make(map[string]struct{}, 2*len(keys))
	for _, k := range keys {
		m[k] = struct{}{}
	}
	m[key] = struct{}{}
	s.sets = append(s.sets, keySet{mark: mark, m: m})
}

// ReleaseKeys ends the key set that began at mark.
func (s *JSONScanner) ReleaseKeys(mark int) {
	s.keys = s.keys[:mark]
	for n := len(s.sets); n > 0 && s.sets[n-1].mark >= mark; n-- {
		s.sets = s.sets[:n-1]
	}
}

// ItemMark starts the item list of an array, for NoteItem.
func (s *JSONScanner) ItemMark() int { return len(s.items) }

// NoteItem records the array item that began at start and that was just
// read.
func (s *JSONScanner) NoteItem(start int) { s.items = append(s.items, start, s.pos) }

// UniqueItems records a violation at at when two of the items noted since
// mark are equal JSON values, and drops them.
func (s *JSONScanner) UniqueItems(at *Path, mark int) {
	spans := s.items[mark:]
	defer func() { s.items = s.items[:mark] }()
	if s.failed || len(spans) < 4 {
		return
	}
	seen := make(map[string]int, len(spans)/2)
	for i := 0; i < len(spans); i += 2 {
		c := s.canonicalSpan(spans[i], spans[i+1])
		if j, ok := seen[c]; ok {
			s.Failf(at, "items %d and %d are equal", j, i/2)
			return
		}
		seen[c] = i / 2
	}
}

// Canonical returns the canonical form of the value read since start (see
// CanonicalJSON).
func (s *JSONScanner) Canonical(start int) string {
	if s.failed {
		return ""
	}
	return s.canonicalSpan(start, s.pos)
}

func (s *JSONScanner) canonicalSpan(start, end int) string {
	c := JSONScanner{data: s.data[:end], pos: start}
	var b strings.Builder
	c.canonical(&b)
	return b.String()
}

// CanonicalJSON returns a canonical text of the JSON value data: two
// values have the same canonical text exactly when jsonschema/v5 deems them
// equal (numbers by exact value, 1 and 1.0 alike; objects whatever their
// key order, the last of repeated keys counting).
func CanonicalJSON(data []byte) (string, error) {
	s := JSONScanner{data: data}
	var b strings.Builder
	s.canonical(&b)
	if !s.failed {
		s.skipSpace()
		if s.pos < len(s.data) {
			s.unexpected("after top-level value")
		}
	}
	if s.failed {
		return "", errors.New("payload: not valid JSON: " + s.errMsg)
	}
	return b.String(), nil
}

func (s *JSONScanner) canonical(b *strings.Builder) {
	switch s.Value() {
	case JSONNull:
		b.WriteString("null")
	case JSONBool:
		if s.boolValue {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case JSONNumber:
		b.WriteString(CanonicalNumber(s.Num()))
	case JSONString:
		b.WriteString(strconv.Quote(s.Str()))
	case JSONArray:
		b.WriteByte('[')
		for i := 0; s.Element(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			s.canonical(b)
		}
		b.WriteByte(']')
	case JSONObject:
		members := map[string]string{}
		for s.Member() {
			k := strings.Clone(s.key)
			var vb strings.Builder
			s.canonical(&vb)
			members[k] = vb.String()
		}
		keys := make([]string, 0, len(members))
		for k := range members {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			b.WriteString(members[k])
		}
		b.WriteByte('}')
	}
}

// Start skips white space and returns the position of the next value,
// for a caller that wants the raw bytes of a value it is about to read:
// data[Start():Pos()] once the value is read or skipped.
func (s *JSONScanner) Start() int {
	s.skipSpace()
	return s.pos
}

// End checks that nothing but white space follows the top-level value, and
// returns the syntax error of the document, "" if it has none.
func (s *JSONScanner) End() string {
	if !s.failed {
		s.skipSpace()
		if s.pos < len(s.data) {
			s.unexpected("after top-level value")
		}
	}
	if s.failed {
		return s.errMsg
	}
	return ""
}

// Finish ends the check of a document: it returns nil when the document is
// valid JSON and no violation was recorded, else a *ValidationError for
// subject. Data after the document is a syntax error. When the document
// repeats an object key (see Duplicate), the verdict is fallback's instead.
func (s *JSONScanner) Finish(subject string, fallback *Schema) error {
	if msg := s.End(); msg != "" {
		return &ValidationError{Subject: subject, Violations: []Violation{{Pointer: "", Message: "not valid JSON: " + msg}}}
	}
	if s.dup && fallback != nil {
		err := fallback.safeValidateJSON(s.data)
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.Subject = subject
		}
		return err
	}
	return s.Violations.Err(subject)
}

// safeValidateJSON is ValidateJSON, with jsonschema/v5's panic on numbers
// big.Rat cannot hold (such as 1e9999999) turned into a violation.
func (s *Schema) safeValidateJSON(data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ValidationError{Violations: []Violation{{Message: fmt.Sprintf("cannot be checked: %v", r)}}}
		}
	}()
	return s.ValidateJSON(data)
}

// decodeJSONString decodes the bytes of a JSON string between its quotes,
// already checked, as encoding/json does.
func decodeJSONString(raw []byte) string {
	b := make([]byte, 0, len(raw)+8)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(raw[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						r2 = hex4(raw[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default: // " \ /
				b = append(b, raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, raw[i:i+size]...)
			}
			i += size
		}
	}
	return string(b)
}

// hex4 returns the value of the four hex digits at the start of b, -1 if
// they are not hex digits.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

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

// Number is an exact decimal constant of a schema (a bound, a multipleOf,
// an enum value), parsed once: its value is 0.digits × 10^exp.
type Number struct {
	text   string
	neg    bool
	digits string // no leading or trailing zeros; "" for zero
	exp    int64
}

// MustNumber parses a JSON number literal of a schema; it panics if text is
// not one.
func MustNumber(text string) *Number {
	d, ok := parseDecimal([]byte(text))
	if !ok {
		panic("payload: not a JSON number: " + strconv.Quote(text))
	}
	return &Number{text: text, neg: d.neg, digits: d.digitString(), exp: d.exp}
}

// String returns the number as written in the schema.
func (n *Number) String() string { return n.text }

// decimal is a view of a number literal: the value is
// 0.(a ++ b) × 10^exp, a ++ b its significant digits.
type decimal struct {
	neg  bool
	a, b []byte
	exp  int64
}

func (d *decimal) ndigits() int { return len(d.a) + len(d.b) }

func (d *decimal) digit(i int) byte {
	if i < len(d.a) {
		return d.a[i]
	}
	return d.b[i-len(d.a)]
}

func (d *decimal) digitString() string { return string(d.a) + string(d.b) }

// maxExp bounds exponents, so that arithmetic on them cannot overflow.
// Numbers beyond it are beyond what big.Rat and hence jsonschema/v5 accept.
const maxExp = 1 << 40

// parseDecimal parses a JSON number literal, without allocating.
func parseDecimal(lit []byte) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(lit) && lit[i] == '-' {
		d.neg = true
		i++
	}
	intStart := i
	for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
		i++
	}
	intPart := lit[intStart:i]
	if len(intPart) == 0 || len(intPart) > 1 && intPart[0] == '0' {
		return d, false
	}
	var frac []byte
	if i < len(lit) && lit[i] == '.' {
		i++
		fs := i
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
		frac = lit[fs:i]
		if len(frac) == 0 {
			return d, false
		}
	}
	var e int64
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		eneg := false
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			eneg = lit[i] == '-'
			i++
		}
		es := i
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			if e < maxExp {
				e = e*10 + int64(lit[i]-'0')
			}
			i++
		}
		if i == es {
			return d, false
		}
		e = min(e, maxExp)
		if eneg {
			e = -e
		}
	}
	if i != len(lit) {
		return d, false
	}
	// Strip leading zeros of intPart ++ frac, then trailing zeros.
	point := int64(len(intPart))
	a, b := intPart, frac
	for len(a) > 0 && a[0] == '0' {
		a = a[1:]
		point--
	}
	if len(a) == 0 {
		for len(b) > 0 && b[0] == '0' {
			b = b[1:]
			point--
		}
	}
	for len(b) > 0 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		for len(a) > 0 && a[len(a)-1] == '0' {
			a = a[:len(a)-1]
		}
	}
	d.a, d.b = a, b
	if d.ndigits() == 0 {
		d.neg = false
		d.exp = 0
		return d, true
	}
	d.exp = point + e
	return d, true
}

// cmpMagnitude compares |x| and |y|.
func cmpMagnitude(x *decimal, yDigits string, yExp int64) int {
	xz, yz := x.ndigits() == 0, len(yDigits) == 0
	switch {
	case xz && yz:
		return 0
	case xz:
		return -1
	case yz:
		return 1
	case x.exp != yExp:
		if x.exp < yExp {
			return -1
		}
		return 1
	}
	n := min(x.ndigits(), len(yDigits))
	for i := 0; i < n; i++ {
		if c, d := x.digit(i), yDigits[i]; c != d {
			if c < d {
				return -1
			}
			return 1
		}
	}
	switch {
	case x.ndigits() < len(yDigits):
		return -1
	case x.ndigits() > len(yDigits):
		return 1
	}
	return 0
}

func cmpDecimal(x *decimal, n *Number) int {
	switch {
	case x.neg && !n.neg:
		return -1
	case !x.neg && n.neg:
		return 1
	}
	c := cmpMagnitude(x, n.digits, n.exp)
	if x.neg {
		return -c
	}
	return c
}

// CompareNumber compares the number literal lit with n: -1, 0 or +1.
func CompareNumber(lit []byte, n *Number) int {
	d, _ := parseDecimal(lit)
	return cmpDecimal(&d, n)
}

// IsInteger reports whether the number literal lit has an integer value,
// as jsonschema/v5 decides "integer" (1.0 and 1e2 are integers).
func IsInteger(lit []byte) bool {
	d, _ := parseDecimal(lit)
	return d.ndigits() == 0 || d.exp >= int64(d.ndigits())
}

// IsMultipleOf reports whether the value of the number literal lit divided
// by n is an integer. n must not be zero.
func IsMultipleOf(lit []byte, n *Number) bool {
	d, _ := parseDecimal(lit)
	return multipleOf(&d, n)
}

// multipleOf: x = mx × 10^ex and n = mn × 10^en, with integer mantissas
// without trailing zeros; x/n is an integer iff mn divides mx × 10^(ex-en),
// which needs ex >= en (mx has no factor 10) unless x is 0.
func multipleOf(x *decimal, n *Number) bool {
	nx := x.ndigits()
	if nx == 0 {
		return true
	}
	if len(n.digits) == 0 {
		return false
	}
	ex := x.exp - int64(nx)
	en := n.exp - int64(len(n.digits))
	if ex < en {
		return false
	}
	k := ex - en
	if nx <= 19 && len(n.digits) <= 19 {
		mx, ok := smallUint(x)
		mn, err := strconv.ParseUint(n.digits, 10, 64)
		if ok && err == nil {
			r := mx % mn
			return mulMod(r, powMod(10, uint64(k), mn), mn) == 0
		}
	}
	mx, _ := new(big.Int).SetString(x.digitString(), 10)
	mn, _ := new(big.Int).SetString(n.digits, 10)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(k), mn)
	p.Mul(p, mx)
	return p.Mod(p, mn).Sign() == 0
}

func smallUint(d *decimal) (uint64, bool) {
	var v uint64
	for i := 0; i < d.ndigits(); i++ {
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(d.digit(i)-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false
		}
		v = lo
	}
	return v, true
}

func mulMod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a%m, b%m)
	_, rem := bits.Div64(hi, lo, m)
	return rem
}

func powMod(base, exp, m uint64) uint64 {
	if m == 1 {
		return 0
	}
	result := uint64(1)
	base %= m
	for exp > 0 {
		if exp&1 == 1 {
			result = mulMod(result, base, m)
		}
		base = mulMod(base, base, m)
		exp >>= 1
	}
	return result
}

// CanonicalNumber returns a text of the number literal lit that is the
// same for every literal of the same value ("1", "1.0" and "10e-1" alike).
func CanonicalNumber(lit []byte) string {
	d, _ := parseDecimal(lit)
	if d.ndigits() == 0 {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	b.WriteString("0.")
	b.Write(d.a)
	b.Write(d.b)
	b.WriteByte('e')
	b.WriteString(strconv.FormatInt(d.exp, 10))
	return b.String()
}

// CompareFloat compares v, as encoding/json writes it (the shortest
// decimal that reads back as v), with n. v must be finite.
func CompareFloat(v float64, n *Number) int {
	var buf [32]byte
	return CompareNumber(strconv.AppendFloat(buf[:0], v, 'g', -1, 64), n)
}

// FloatIsMultipleOf is IsMultipleOf for v as encoding/json writes it.
func FloatIsMultipleOf(v float64, n *Number) bool {
	var buf [32]byte
	return IsMultipleOf(strconv.AppendFloat(buf[:0], v, 'g', -1, 64), n)
}

// CompareInt compares v with n.
func CompareInt(v int64, n *Number) int {
	var buf [24]byte
	return CompareNumber(strconv.AppendInt(buf[:0], v, 10), n)
}

// IntIsMultipleOf is IsMultipleOf for v.
func IntIsMultipleOf(v int64, n *Number) bool {
	var buf [24]byte
	return IsMultipleOf(strconv.AppendInt(buf[:0], v, 10), n)
}

// IsFinite reports whether v can be encoded as JSON: not NaN or infinite.
func IsFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// The format checkers below give jsonschema/v5's verdicts (its format.go);
// the date, date-time and uuid ones are written out so that the common
// formats cost no allocation, email and uri call jsonschema/v5's own.

// IsDateTime reports whether s is an RFC 3339 date-time.
func IsDateTime(s string) bool {
	if len(s) < 20 { // yyyy-mm-ddThh:mm:ssZ
		return false
	}
	if s[10] != 'T' && s[10] != 't' {
		return false
	}
	return IsDate(s[:10]) && isTime(s[11:])
}

// IsDate reports whether s is an RFC 3339 full-date: what
// time.Parse("2006-01-02", s) accepts, jsonschema/v5's check.
func IsDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month := int(s[5]-'0')*10 + int(s[6]-'0')
	day := int(s[8]-'0')*10 + int(s[9]-'0')
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// isTime reports whether s is an RFC 3339 full-time, leap seconds allowed
// at 23:59:60 UTC.
func isTime(str string) bool {
	if len(str) < 9 || str[2] != ':' || str[5] != ':' {
		return false
	}
	inRange := func(str string, lo, hi int) (int, bool) {
		n, err := strconv.Atoi(str)
		if err != nil || n < lo || n > hi {
			return 0, false
		}
		return n, true
	}
	h, ok := inRange(str[0:2], 0, 23)
	if !ok {
		return false
	}
	m, ok := inRange(str[3:5], 0, 59)
	if !ok {
		return false
	}
	sec, ok := inRange(str[6:8], 0, 60)
	if !ok {
		return false
	}
	str = str[8:]
	if str[0] == '.' {
		str = str[1:]
		n := 0
		for str != "" && str[0] >= '0' && str[0] <= '9' {
			n++
			str = str[1:]
		}
		if n == 0 {
			return false
		}
	}
	if len(str) == 0 {
		return false
	}
	if str[0] == 'z' || str[0] == 'Z' {
		if len(str) != 1 {
			return false
		}
	} else {
		if len(str) != 6 || str[3] != ':' {
			return false
		}
		var sign int
		switch str[0] {
		case '+':
			sign = -1
		case '-':
			sign = +1
		default:
			return false
		}
		zh, ok := inRange(str[1:3], 0, 23)
		if !ok {
			return false
		}
		zm, ok := inRange(str[4:6], 0, 59)
		if !ok {
			return false
		}
		hm := (h*60 + m) + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	if sec == 60 && (h != 23 || m != 59) {
		return false
	}
	return true
}

// IsUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

var (
	emailFormat = jsonschema.Formats["email"]
	uriFormat   = jsonschema.Formats["uri"]
)

// IsEmail reports whether s is an RFC 5322 address (addr-spec).
func IsEmail(s string) bool { return plainEmail(s) || emailFormat(s) }

// plainEmail reports whether s is an address jsonschema/v5's email check
// certainly accepts, checked without allocating: a dot-atom local part of
// ASCII letters, digits and !#$%&'*+-/=?^_`{|}~ and a host name of letters,
// digits and inner hyphens. False says nothing: the full check decides.
func plainEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	dot := true // a dot may not come first, nor after a dot
	for i := 0; i < len(local); i++ {
		switch c := local[i]; {
		case c == '.':
			if dot {
				return false
			}
			dot = true
		case isAlnum(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
			dot = false
		default:
			return false
		}
	}
	if dot || domain == "" || len(domain) > 253 {
		return false
	}
	label := 0
	for i := 0; i <= len(domain); i++ {
		if i == len(domain) || domain[i] == '.' {
			if label == 0 || label > 63 || domain[i-1] == '-' {
				return false
			}
			label = 0
			continue
		}
		if c := domain[i]; !isAlnum(c) && (c != '-' || label == 0) {
			return false
		}
		label++
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// IsURI reports whether s is an absolute RFC 3986 URI.
func IsURI(s string) bool { return uriFormat(s) }

// ValidTime reports whether encoding/json writes t as an RFC 3339
// date-time: its year is within 0 to 9999 and its zone offset within a
// day.
func ValidTime(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off > -24*3600 && off < 24*3600
}

// ValidDate reports whether d is written as an RFC 3339 full-date: its year,
// once normalized, is within 0 to 9999.
func ValidDate(d Date) bool {
	y := d.In(time.UTC).Year()
	return y >= 0 && y <= 9999
}

// DuplicateItems returns the indexes of the first two equal items, as
// jsonschema/v5 reports them for uniqueItems: j is the smallest index
// equal to an earlier one, i the first index it equals.
func DuplicateItems[T comparable](items []T) (i, j int, ok bool) {
	if len(items) <= 20 {
		for j := 1; j < len(items); j++ {
			for i := 0; i < j; i++ {
				if items[i] == items[j] {
					return i, j, true
				}
			}
		}
		return 0, 0, false
	}
	seen := make(map[T]int, len(items))
	for j, x := range items {
		if i, ok := seen[x]; ok {
			return i, j, true
		}
		seen[x] = j
	}
	return 0, 0, false
}

// Pattern is a compiled "pattern" keyword: a Go regular expression, as
// jsonschema/v5 compiles it, matched as regexp.MatchString matches it. An
// expression that is a plain anchored sequence of characters and character
// classes, each repeated a fixed or bounded number of times, and that a
// single left-to-right pass decides (such as ^[A-Z]{3}$ or
// ^PO-[0-9]{4}-[0-9]{6}$), is matched without the regexp machine.
type Pattern struct {
	re    *regexp.Regexp
	items []patternItem // nil: the regexp machine decides
}

// patternItem is a character class repeated min to max times (max < 0:
// unbounded).
type patternItem struct {
	ascii    [utf8.RuneSelf]bool
	ranges   []rune // pairs, for the runes beyond ASCII
	min, max int
}

func (it *patternItem) has(r rune) bool {
	if r < utf8.RuneSelf {
		return it.ascii[r]
	}
	for i := 0; i+1 < len(it.ranges); i += 2 {
		if r >= it.ranges[i] && r <= it.ranges[i+1] {
			return true
		}
	}
	return false
}

// MustPattern compiles a pattern; it panics if expr is not a Go regular
// expression.
func MustPattern(expr string) *Pattern {
	p := &Pattern{re: regexp.MustCompile(expr)}
	p.items = simplePattern(expr)
	return p
}

// String returns the expression.
func (p *Pattern) String() string { return p.re.String() }

// MatchString reports whether s contains a match of the expression.
func (p *Pattern) MatchString(s string) bool {
	if p.items == nil {
		return p.re.MatchString(s)
	}
	i := 0
	for k := range p.items {
		it := &p.items[k]
		n := 0
		for i < len(s) && (it.max < 0 || n < it.max) {
			r, size := rune(s[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			if !it.has(r) {
				break
			}
			i += size
			n++
		}
		if n < it.min {
			return false
		}
	}
	return i == len(s)
}

// simplePattern returns the items of expr when it is ^item...item$ and the
// greedy pass above is exact: every item with a choice of how many
// characters it takes shares no character with the items after it, up to
// the next one that must take one. Otherwise nil.
func simplePattern(expr string) []patternItem {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return nil
	}
	subs := re.Sub
	if subs[0].Op != syntax.OpBeginText || subs[len(subs)-1].Op != syntax.OpEndText {
		return nil
	}
	var items []patternItem
	class := func(r *syntax.Regexp) ([]rune, bool) {
		switch {
		case r.Op == syntax.OpCharClass:
			return r.Rune, true
		case r.Op == syntax.OpLiteral && len(r.Rune) == 1 && r.Flags&syntax.FoldCase == 0:
			return []rune{r.Rune[0], r.Rune[0]}, true
		case r.Op == syntax.OpAnyCharNotNL:
			return []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}, true
		case r.Op == syntax.OpAnyChar:
			return []rune{0, unicode.MaxRune}, true
		}
		return nil, false
	}
	add := func(ranges []rune, lo, hi int) {
		it := patternItem{min: lo, max: hi}
		for i := 0; i+1 < len(ranges); i += 2 {
			for r := ranges[i]; r <= ranges[i+1] && r < utf8.RuneSelf; r++ {
				it.ascii[r] = true
			}
			if ranges[i+1] >= utf8.RuneSelf {
				it.ranges = append(it.ranges, max(ranges[i], utf8.RuneSelf), ranges[i+1])
			}
		}
		items = append(items, it)
	}
	for _, sub := range subs[1 : len(subs)-1] {
		switch sub.Op {
		case syntax.OpLiteral:
			if sub.Flags&syntax.FoldCase != 0 {
				return nil
			}
			for _, r := range sub.Rune {
				add([]rune{r, r}, 1, 1)
			}
			continue
		case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
			ranges, ok := class(sub.Sub[0])
			if !ok {
				return nil
			}
			bounds := map[syntax.Op][2]int{syntax.OpStar: {0, -1}, syntax.OpPlus: {1, -1}, syntax.OpQuest: {0, 1}, syntax.OpRepeat: {sub.Min, sub.Max}}[sub.Op]
			add(ranges, bounds[0], bounds[1])
			continue
		}
		ranges, ok := class(sub)
		if !ok {
			return nil
		}
		add(ranges, 1, 1)
	}
	for i := range items {
		if items[i].min == items[i].max {
			continue
		}
		for j := i + 1; j < len(items); j++ {
			if overlap(&items[i], &items[j]) {
				return nil
			}
			if items[j].min > 0 {
				break
			}
		}
	}
	return items
}

func overlap(a, b *patternItem) bool {
	for r := range a.ascii {
		if a.ascii[r] && b.ascii[r] {
			return true
		}
	}
	for i := 0; i+1 < len(a.ranges); i += 2 {
		for j := 0; j+1 < len(b.ranges); j += 2 {
			if a.ranges[i] <= b.ranges[j+1] && b.ranges[j] <= a.ranges[i+1] {
				return true
			}
		}
	}
	return false
}
