package payload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
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
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return // compact JSON: the common case
	}
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
	var k JSONKind
	switch c := s.data[s.pos]; c {
	case '"':
		if !s.scanString() {
			return JSONInvalid
		}
		k = JSONString
	case '{', '[':
		if s.depth++; s.depth > maxJSONDepth {
			s.syntaxError("exceeded max depth")
			return JSONInvalid
		}
		s.pos++
		s.first = true
		k = JSONArray
		if c == '{' {
			k = JSONObject
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !s.scanNumber() {
			return JSONInvalid
		}
		k = JSONNumber
	case 't':
		if !s.scanLiteral("true") {
			return JSONInvalid
		}
		k, s.boolValue = JSONBool, true
	case 'f':
		if !s.scanLiteral("false") {
			return JSONInvalid
		}
		k, s.boolValue = JSONBool, false
	case 'n':
		if !s.scanLiteral("null") {
			return JSONInvalid
		}
		k = JSONNull
	default:
		s.unexpected("looking for beginning of value")
		return JSONInvalid
	}
	s.kind = k
	return k
}

// PlainUUID reads the next value when it is a string that holds a UUID
// (IsUUID) as it is, without escapes, and reports whether it did; else it
// reads nothing, but white space. The walker of a string whose one check is
// the uuid format calls it first, and has nothing more to check when it
// returns true.
func (s *JSONScanner) PlainUUID() bool {
	if s.failed {
		return false
	}
	s.skipSpace()
	i := s.pos
	if i+38 > len(s.data) || s.data[i] != '"' || s.data[i+37] != '"' || !IsUUID(unsafe.String(&s.data[i+1], 36)) {
		return false
	}
	s.first = false
	s.kind, s.tok, s.end, s.escaped = JSONString, i+1, i+37, false
	s.pos = i + 38
	return true
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
	start := s.pos + 1
	s.tok = start
	s.escaped = false
	data := s.data
	for i := start; i < len(data); {
		// Eight bytes at a time to the first that needs a look; byte by
		// byte near the end of the document.
		var c byte
		if i+8 <= len(data) {
			t := specialBytes(binary.LittleEndian.Uint64(data[i:]))
			if t == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(t) >> 3
			c = data[i]
		} else {
			for i < len(data) && plainByte[data[i]] {
				i++
			}
			if i >= len(data) {
				break
			}
			c = data[i]
		}
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

// specialBytes returns, for eight bytes of a string read as a little-endian
// word, a word whose lowest set bit is in the first byte that is not a
// plainByte (0 when all are plain): a quote, a backslash, a control
// character or a byte beyond ASCII. (Borrows may flag bytes after the first
// such byte too, never one before it.)
func specialBytes(x uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	// A byte below ' ', or one that the xor with '"' or '\\' makes zero,
	// borrows when ' ' or 1 is taken from it; its bit 7 is then set unless
	// the byte had it set already, which the last term flags anyway.
	borrow := (x - ' '*ones) | (x ^ '"'*ones - ones) | (x ^ '\\'*ones - ones)
	return (borrow&^x | x) & high
}

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

// member reads the next key of the object being read, and sets Key to it
// if key (SkipContainer leaves Key alone).
func (s *JSONScanner) member(key bool) bool {
	if s.failed {
		return false
	}
	// Compact JSON: the key's quote, after a comma unless it is the first.
	if i := s.pos; i+1 < len(s.data) {
		if s.first && s.data[i] == '"' || !s.first && s.data[i] == ',' && s.data[i+1] == '"' {
			if !s.first {
				s.pos++
			}
			s.first = false
			if !s.scanString() {
				return false
			}
			if s.pos < len(s.data) && s.data[s.pos] == ':' {
				s.pos++
				if key {
					if s.escaped {
						s.key = decodeJSONString(s.data[s.tok:s.end])
					} else {
						s.key = unsafe.String(&s.data[s.tok], s.end-s.tok)
					}
				}
				return true
			}
			return s.colon(key)
		}
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
	return s.colon(key)
}

// colon reads the colon after a key, and sets Key if key.
func (s *JSONScanner) colon(key bool) bool {
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		s.unexpected("after object key")
		return false
	}
	s.pos++
	if key {
		s.key = s.Str()
	}
	return true
}

// Member moves to the next member of the object being read: it returns
// true with Key set, before the member's value, which the caller must read
// or skip; false after the closing brace or on a syntax error.
func (s *JSONScanner) Member() bool { return s.member(true) }

// Keys is the set of keys a generated walker of an object looks for, which
// MemberIn recognizes by their bytes instead of scanning them as strings.
// Build it once with NewKeys.
type Keys struct {
	keys []keyText
	// first[c] is 1 + the index in keys of the first plain key (see
	// plainKey) whose JSON text starts with byte c, 0 for none; the
	// next field of a key links the next one.
	first [256]uint16
}

// keyText is a plain key and its JSON text up to the colon, "key":, read
// as little-endian words to compare with the document's: the text's first
// word (its bytes under mask when it is shorter), its last (which the
// first may overlap), and for a text of two words or more its second; a
// text longer than three words has the bytes between the second and the
// last in rest.
type keyText struct {
	key          string
	size         int // of the text
	head, mask   uint64
	second, last uint64
	rest         string
	next         uint16
}

// wordSize is the number of bytes MemberIn compares at a time.
const wordSize = 8

// maxKeys bounds a Keys' recognized keys, which its uint16 links index.
const maxKeys = 1<<16 - 1

// NewKeys returns the set of keys. Only keys whose JSON text is their bytes
// between quotes (valid UTF-8 without quotes, backslashes or control
// characters) are recognized by their bytes; MemberIn reads the others as
// Member does, with the same result, more slowly.
func NewKeys(keys ...string) *Keys {
	k := &Keys{}
	last := map[byte]int{}
	word := func(b string) uint64 {
		var w [wordSize]byte
		copy(w[:], b)
		return binary.LittleEndian.Uint64(w[:])
	}
	for _, key := range keys {
		if !plainKey(key) || len(k.keys) >= maxKeys {
			continue
		}
		text := key + `":`
		t := keyText{key: key, size: len(text), mask: ^uint64(0), head: word(text)}
		if len(text) < wordSize {
			t.mask >>= 8 * (wordSize - len(text))
		}
		if len(text) > wordSize {
			t.last = word(text[len(text)-wordSize:])
		}
		if len(text) >= 2*wordSize {
			t.second = word(text[wordSize:])
		}
		if len(text) > 3*wordSize {
			t.rest = text[2*wordSize : len(text)-wordSize]
		}
		c := text[0] // the empty key's closing quote
		if j, ok := last[c]; ok {
			k.keys[j].next = uint16(len(k.keys) + 1)
		} else {
			k.first[c] = uint16(len(k.keys) + 1)
		}
		last[c] = len(k.keys)
		k.keys = append(k.keys, t)
	}
	return k
}

// plainKey reports whether the JSON text of key is its bytes between
// quotes.
func plainKey(key string) bool {
	if !utf8.ValidString(key) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < ' ' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// MemberIn is Member for an object whose walker looks for keys: in compact
// JSON, a key of keys written as it is (no escapes) is read by comparing
// its bytes, and Key returns the string of keys. Any other key is read as
// Member reads it.
func (s *JSONScanner) MemberIn(keys *Keys) bool {
	data, i := s.data, s.pos+1 // i: after the key's opening quote
	if !s.first {
		i++ // after the comma
	}
	if s.failed || i+2*wordSize > len(data) || data[i-1] != '"' || !s.first && data[i-2] != ',' {
		return s.member(true)
	}
	head := binary.LittleEndian.Uint64(data[i:])
	for k := keys.first[data[i]]; k != 0; {
		t := &keys.keys[k-1]
		k = t.next
		if head&t.mask != t.head {
			continue
		}
		if t.size > wordSize {
			// Past the first word: the second, then the last, and what
			// lies between.
			if i+t.size > len(data) ||
				binary.LittleEndian.Uint64(data[i+t.size-wordSize:]) != t.last ||
				t.size >= 2*wordSize && binary.LittleEndian.Uint64(data[i+wordSize:]) != t.second ||
				t.rest != "" && string(data[i+2*wordSize:i+t.size-wordSize]) != t.rest {
				continue
			}
		}
		s.pos = i + t.size
		s.first = false
		s.key = t.key
		return true
	}
	return s.member(true)
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
	if !s.failed && (s.kind == JSONObject || s.kind == JSONArray) && s.skipFast() {
		return
	}
	s.skipSlow()
}

// skipSlow is SkipContainer by Member and Element, one value at a time:
// the reading that words every syntax error as encoding/json does.
func (s *JSONScanner) skipSlow() {
	switch s.kind {
	case JSONObject:
		for s.member(false) {
			s.Skip()
		}
	case JSONArray:
		for s.Element() {
			s.Skip()
		}
	}
	s.first = false
}

// skipStack bounds the nesting skipFast follows; a deeper container is
// left to skipSlow.
const skipStack = 64

// skipFast is SkipContainer in one loop, without a call per value: it
// checks the same syntax (the strings, numbers and literals with the
// scanner's own functions) and reports whether it read the container to
// its closing bracket. On a syntax error of the structure between values,
// or nesting deeper than skipStack, it restores the scanner and returns
// false, so that skipSlow reads the container again and words the error;
// an error in a string, number or literal it leaves recorded, worded as
// skipSlow would word it, and returns true.
func (s *JSONScanner) skipFast() bool {
	data := s.data
	pos, depth, first := s.pos, s.depth, s.first
	// closers[n-1] is the closing bracket of the innermost open container.
	var closers [skipStack]byte
	closers[0] = ']'
	if s.kind == JSONObject {
		closers[0] = '}'
	}
	n := 1
	// Where the loop is: before the first item or the closing bracket
	// (open), before an item after a comma (item), after an item (next).
	const (
		open = iota
		item
		next
	)
	state := open
	if !first {
		state = next // SkipContainer after some of the items were read
	}
	i := pos
	restore := func() bool {
		s.pos, s.depth, s.first = pos, depth, first
		return false
	}
	// failed leaves the scanner as skipSlow leaves it on the syntax error
	// the scanner's functions recorded.
	failed := func() bool {
		s.depth, s.first = depth+n-1, false
		return true
	}
	for {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
		if i >= len(data) {
			return restore()
		}
		c := data[i]
		closer := closers[n-1]
		if state != item && c == closer {
			i++
			if n--; n == 0 {
				s.pos, s.depth, s.first = i, depth-1, false
				return true
			}
			state = next
			continue
		}
		if state == next {
			if c != ',' {
				return restore()
			}
			i++
			state = item
			continue
		}
		if closer == '}' {
			// A key and its colon, then the value.
			if c != '"' {
				return restore()
			}
			if s.pos = i; !s.scanString() {
				return failed()
			}
			i = s.pos
			for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
				i++
			}
			if i >= len(data) || data[i] != ':' {
				return restore()
			}
			i++
			for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
				i++
			}
			if i >= len(data) {
				return restore()
			}
			c = data[i]
		}
		state = next
		switch c {
		case '{', '[':
			if n == skipStack || depth+n >= maxJSONDepth {
				return restore()
			}
			closers[n] = c + 2 // '{'+2 is '}', '['+2 is ']'
			n++
			i++
			state = open
			continue
		case '"':
			s.pos = i
			if !s.scanString() {
				return failed()
			}
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			s.pos = i
			if !s.scanNumber() {
				return failed()
			}
		case 't':
			s.pos = i
			if !s.scanLiteral("true") {
				return failed()
			}
		case 'f':
			s.pos = i
			if !s.scanLiteral("false") {
				return failed()
			}
		case 'n':
			s.pos = i
			if !s.scanLiteral("null") {
				return failed()
			}
		default:
			return restore()
		}
		i = s.pos
	}
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
