package payload

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/google/uuid"
)

// Reading JSON into typed values without encoding/json or reflection: the
// generated decoders (decodeJSON methods) call these on a document the
// generated validator has already accepted, so they read each value once
// and only refuse what the Go type cannot hold. Each Decode function reads
// the next value into *p, replacing what *p held (the last of repeated
// keys wins, the value the schema checks); null leaves the zero value.

// DecodeError is the error of a generated decoder: where in the document
// the value is that could not be decoded, and why.
type DecodeError struct {
	Pointer string // the JSON pointer of the value
	Err     error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("payload: decode %q: %v", e.Pointer, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// InMember returns err as found in the value of member key of an object.
func InMember(key string, err error) error { return in(EscapeToken(key), err) }

// InItem returns err as found in item i of an array.
func InItem(i int, err error) error { return in(strconv.Itoa(i), err) }

func in(token string, err error) error {
	if de, ok := err.(*DecodeError); ok {
		de.Pointer = "/" + token + de.Pointer
		return de
	}
	return &DecodeError{Pointer: "/" + token, Err: err}
}

// KindError is the error for a value of another kind than the Go type's,
// which the schema accepts where it does not say a type (a schema with
// properties but no "type": "object" accepts a string): an
// ErrUnrepresentable.
func KindError(s *JSONScanner, want string) error {
	k := s.kind
	if k == JSONObject || k == JSONArray {
		s.SkipContainer()
	}
	if k == JSONInvalid {
		return &DecodeError{Err: fmt.Errorf("not valid JSON: %s", s.End())}
	}
	return &DecodeError{Err: fmt.Errorf("%w: want %s, got %s", ErrUnrepresentable, want, k)}
}

// Null reads a null if one comes next, and reports whether it did.
func (s *JSONScanner) Null() bool {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == 'n' {
		s.Value()
		return true
	}
	return false
}

// OwnedStr is Str with memory of its own.
func (s *JSONScanner) OwnedStr() string {
	if !s.escaped {
		return string(s.data[s.tok:s.end])
	}
	return decodeJSONString(s.data[s.tok:s.end])
}

// DecodeString reads a string.
func DecodeString(p *string, s *JSONScanner) error {
	switch s.Value() {
	case JSONString:
		*p = s.OwnedStr()
	case JSONNull:
		*p = ""
	default:
		return KindError(s, "string")
	}
	return nil
}

// DecodeEnum reads a string into a string type with the values given:
// one of them is stored as the value itself, which allocates nothing, any
// other string (or an escaped one) as DecodeString stores it.
func DecodeEnum[E ~string](p *E, s *JSONScanner, values ...E) error {
	switch s.Value() {
	case JSONString:
		if !s.escaped {
			str := s.Str()
			for _, v := range values {
				if string(v) == str {
					*p = v
					return nil
				}
			}
		}
		*p = E(s.OwnedStr())
	case JSONNull:
		*p = ""
	default:
		return KindError(s, "string")
	}
	return nil
}

// DecodeBool reads a boolean.
func DecodeBool(p *bool, s *JSONScanner) error {
	switch s.Value() {
	case JSONBool:
		*p = s.Bool()
	case JSONNull:
		*p = false
	default:
		return KindError(s, "boolean")
	}
	return nil
}

// DecodeInt64 reads an integer: any JSON number of integral value (12,
// 12.0, 1.2e1, -0) that int64 holds. One beyond int64 is
// ErrUnrepresentable.
func DecodeInt64(p *int64, s *JSONScanner) error {
	switch s.Value() {
	case JSONNumber:
		v, err := ParseInt64(s.Num())
		if err != nil {
			return &DecodeError{Err: err}
		}
		*p = v
	case JSONNull:
		*p = 0
	default:
		return KindError(s, "integer")
	}
	return nil
}

// ParseInt64 returns the value of a JSON number literal of integral value
// as an int64.
func ParseInt64(lit []byte) (int64, error) {
	d, ok := parseDecimal(lit)
	if !ok {
		return 0, fmt.Errorf("%q is not a JSON number", lit)
	}
	n := int64(d.ndigits())
	if n == 0 {
		return 0, nil
	}
	if d.exp < n {
		return 0, fmt.Errorf("%s is not an integer", lit)
	}
	if d.exp > 19 {
		return 0, fmt.Errorf("%w: %s is beyond int64", ErrUnrepresentable, lit)
	}
	var u uint64
	for i := int64(0); i < d.exp; i++ {
		c := uint64(0)
		if i < n {
			c = uint64(d.digit(int(i)) - '0')
		}
		if u > (1<<64-1-c)/10 {
			return 0, fmt.Errorf("%w: %s is beyond int64", ErrUnrepresentable, lit)
		}
		u = u*10 + c
	}
	if d.neg {
		if u > 1<<63 {
			return 0, fmt.Errorf("%w: %s is beyond int64", ErrUnrepresentable, lit)
		}
		return -int64(u-1) - 1, nil
	}
	if u > 1<<63-1 {
		return 0, fmt.Errorf("%w: %s is beyond int64", ErrUnrepresentable, lit)
	}
	return int64(u), nil
}

// DecodeFloat64 reads a number, rounded to the nearest float64 as
// encoding/json rounds it (1e-400 becomes 0). One beyond float64's range
// is ErrUnrepresentable.
func DecodeFloat64(p *float64, s *JSONScanner) error {
	switch s.Value() {
	case JSONNumber:
		num := s.Num()
		f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(num), len(num)), 64)
		if err != nil {
			return &DecodeError{Err: fmt.Errorf("%w: %s is beyond float64", ErrUnrepresentable, num)}
		}
		*p = f
	case JSONNull:
		*p = 0
	default:
		return KindError(s, "number")
	}
	return nil
}

// DecodeTime reads a date-time string: every string IsDateTime accepts.
// See ParseDateTime.
func DecodeTime(p *time.Time, s *JSONScanner) error {
	switch s.Value() {
	case JSONString:
		t, err := ParseDateTime(s.Str())
		if err != nil {
			return &DecodeError{Err: err}
		}
		*p = t
	case JSONNull:
		*p = time.Time{}
	default:
		return KindError(s, "string")
	}
	return nil
}

// ParseDateTime parses an RFC 3339 date-time, as the date-time format
// (IsDateTime) accepts it: 't' and 'z' in either case, any number of
// fractional digits (beyond nanoseconds they are truncated), an offset of
// +00:00 or -00:00 as UTC, another offset as a time.FixedZone without a
// name, and a leap second (23:59:60 UTC) as the second after it, the first
// second of the next day.
func ParseDateTime(str string) (time.Time, error) {
	if !IsDateTime(str) {
		return time.Time{}, fmt.Errorf("%q is not a valid date-time", str)
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	year, month, day := num(str[0:4]), num(str[5:7]), num(str[8:10])
	hour, minute, sec := num(str[11:13]), num(str[14:16]), num(str[17:19])
	rest := str[19:]
	nsec := 0
	if rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		rest = rest[i:]
	}
	loc := time.UTC
	if rest[0] != 'Z' && rest[0] != 'z' {
		off := (num(rest[1:3])*60 + num(rest[4:6])) * 60
		if rest[0] == '-' {
			off = -off
		}
		if off != 0 {
			loc = time.FixedZone("", off)
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), nil
}

// DecodeUUID reads a uuid string.
func DecodeUUID(p *uuid.UUID, s *JSONScanner) error {
	switch s.Value() {
	case JSONString:
		str := s.Str()
		if id, ok := ParseUUID(str); ok {
			*p = id
			return nil
		}
		id, err := uuid.Parse(str)
		if err != nil {
			return &DecodeError{Err: err}
		}
		*p = id
	case JSONNull:
		*p = uuid.UUID{}
	default:
		return KindError(s, "string")
	}
	return nil
}

// ParseUUID reads a UUID in its 8-4-4-4-12 hex form, the only one the
// uuid format (IsUUID) accepts, with a table instead of uuid.Parse's
// several forms; false for any other string.
func ParseUUID(str string) (uuid.UUID, bool) {
	if !IsUUID(str) {
		return uuid.UUID{}, false
	}
	_ = str[35] // IsUUID checked the length: no bounds checks below
	return uuid.UUID{
		hexByte(str[0], str[1]), hexByte(str[2], str[3]), hexByte(str[4], str[5]), hexByte(str[6], str[7]),
		hexByte(str[9], str[10]), hexByte(str[11], str[12]),
		hexByte(str[14], str[15]), hexByte(str[16], str[17]),
		hexByte(str[19], str[20]), hexByte(str[21], str[22]),
		hexByte(str[24], str[25]), hexByte(str[26], str[27]), hexByte(str[28], str[29]),
		hexByte(str[30], str[31]), hexByte(str[32], str[33]), hexByte(str[34], str[35]),
	}, true
}

// hexByte is the byte of two ASCII hex digits.
func hexByte(hi, lo byte) byte { return hexValue[hi]<<4 | hexValue[lo] }

// hexValue is the value of each ASCII hex digit (0 for other bytes).
var hexValue = func() (t [256]byte) {
	for c := byte(0); c < 10; c++ {
		t['0'+c] = c
	}
	for c := byte(0); c < 6; c++ {
		t['a'+c], t['A'+c] = 10+c, 10+c
	}
	return t
}()

// DecodeDate reads a full-date string.
func DecodeDate(p *Date, s *JSONScanner) error {
	switch s.Value() {
	case JSONString:
		d, err := ParseDate(s.Str())
		if err != nil {
			return &DecodeError{Err: err}
		}
		*p = d
	case JSONNull:
		*p = Date{}
	default:
		return KindError(s, "string")
	}
	return nil
}

// DecodeAny reads any JSON value as encoding/json decodes it into an any
// with UseNumber: map[string]any, []any, string, bool, nil, and numbers as
// json.Number, which holds the number's text exactly.
func DecodeAny(p *any, s *JSONScanner) error {
	v, err := decodeAny(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func decodeAny(s *JSONScanner) (any, error) {
	switch s.Value() {
	case JSONNull:
		return nil, nil
	case JSONBool:
		return s.Bool(), nil
	case JSONNumber:
		return json.Number(strings.Clone(string(s.Num()))), nil
	case JSONString:
		return s.OwnedStr(), nil
	case JSONArray:
		items := []any{}
		for s.Element() {
			v, err := decodeAny(s)
			if err != nil {
				return nil, InItem(len(items), err)
			}
			items = append(items, v)
		}
		return items, nil
	case JSONObject:
		m := map[string]any{}
		for s.Member() {
			k := strings.Clone(s.Key())
			v, err := decodeAny(s)
			if err != nil {
				return nil, InMember(k, err)
			}
			m[k] = v
		}
		return m, nil
	}
	return nil, KindError(s, "a JSON value")
}

// DecodePointer reads null as nil, another value into a new E.
func DecodePointer[E any](p **E, s *JSONScanner, elem func(*E, *JSONScanner) error) error {
	if s.Null() {
		*p = nil
		return nil
	}
	v := new(E)
	if err := elem(v, s); err != nil {
		return err
	}
	*p = v
	return nil
}

// DecodeSlice reads an array (null as a nil slice), each item with elem.
func DecodeSlice[E any](p *[]E, s *JSONScanner, elem func(*E, *JSONScanner) error) error {
	switch s.Value() {
	case JSONNull:
		*p = nil
		return nil
	case JSONArray:
	default:
		return KindError(s, "array")
	}
	items := make([]E, 0, 4)
	for s.Element() {
		items = append(items, *new(E))
		if err := elem(&items[len(items)-1], s); err != nil {
			return InItem(len(items)-1, err)
		}
	}
	*p = items
	return nil
}

// DecodeMap reads an object (null as a nil map), each member's value with
// elem.
func DecodeMap[E any](p *map[string]E, s *JSONScanner, elem func(*E, *JSONScanner) error) error {
	switch s.Value() {
	case JSONNull:
		*p = nil
		return nil
	case JSONObject:
	default:
		return KindError(s, "object")
	}
	m := map[string]E{}
	for s.Member() {
		k := strings.Clone(s.Key())
		var v E
		if err := elem(&v, s); err != nil {
			return InMember(k, err)
		}
		m[k] = v
	}
	*p = m
	return nil
}

// DecodeObject reads the start of an object for a generated struct
// decoder: it reports whether an object follows (the caller then loops
// over Member), false for null; another kind is an error.
func DecodeObject(s *JSONScanner) (bool, error) {
	switch s.Value() {
	case JSONObject:
		return true, nil
	case JSONNull:
		return false, nil
	}
	return false, KindError(s, "object")
}

// DecodeEnd checks, after a generated decoder read the top-level value,
// that the document is valid JSON with nothing after the value.
func DecodeEnd(s *JSONScanner) error {
	if msg := s.End(); msg != "" {
		return &DecodeError{Err: fmt.Errorf("not valid JSON: %s", msg)}
	}
	return nil
}

// WithoutRepeatedKeys returns data, one valid JSON document, with every
// object that repeats a key reduced to the last value of each key, the
// object jsonschema/v5 and encoding/json read; data itself when no object
// repeats a key, the common case, which costs one scan. The generated
// decoders keep the last value of a repeated key themselves; they read
// their document again through WithoutRepeatedKeys when it does not
// decode as it is, so that an earlier value of a repeated key, which the
// schema does not check (one beyond int64, say), does not fail a payload
// whose last values decode.
func WithoutRepeatedKeys(data []byte) []byte {
	var s JSONScanner
	s.Reset(data)
	if !repeatsKeys(&s) {
		return data
	}
	s.Reset(data)
	return appendLastKeys(make([]byte, 0, len(data)), &s, data)
}

// repeatsKeys reads one value and reports whether an object in it repeats
// a key.
func repeatsKeys(s *JSONScanner) bool {
	switch s.Value() {
	case JSONObject:
		mark := s.KeyMark()
		defer s.ReleaseKeys(mark)
		for s.Member() {
			if s.NoteKey(mark, s.Key()); s.dup {
				return true
			}
			if repeatsKeys(s) {
				return true
			}
		}
	case JSONArray:
		for s.Element() {
			if repeatsKeys(s) {
				return true
			}
		}
	}
	return false
}

// appendLastKeys reads one value of data and appends it to dst, each
// object with the last value of each of its keys, in the order of their
// first occurrence.
func appendLastKeys(dst []byte, s *JSONScanner, data []byte) []byte {
	start := s.Start()
	switch s.Value() {
	case JSONObject:
		type member struct {
			key   string
			value []byte
		}
		var members []member
		at := map[string]int{}
		for s.Member() {
			key := strings.Clone(s.Key())
			value := appendLastKeys(nil, s, data)
			if i, ok := at[key]; ok {
				members[i].value = value
				continue
			}
			at[key] = len(members)
			members = append(members, member{key, value})
		}
		dst = append(dst, '{')
		for i, m := range members {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, m.key)
			dst = append(dst, ':')
			dst = append(dst, m.value...)
		}
		return append(dst, '}')
	case JSONArray:
		dst = append(dst, '[')
		for i := 0; s.Element(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendLastKeys(dst, s, data)
		}
		return append(dst, ']')
	}
	return append(dst, data[start:s.Pos()]...)
}
