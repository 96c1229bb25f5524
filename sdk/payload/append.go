package payload

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Writing JSON without reflection. The generated payload types implement
// Payload with these functions; each writes exactly what
// encoding/json writes for the same Go value (json.Marshal: compact, HTML
// characters escaped), which the generated code's tests check against
// json.Marshal on the catalog's examples and on random values.

// AppendJSONFloat appends f as encoding/json writes a float64: the
// shortest representation that reads back as f, in exponent form below
// 1e-6 and from 1e21 on. NaN and the infinities are ErrUnsupportedValue.
func AppendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("%w: %s", ErrUnsupportedValue, strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// encoding/json writes 1e-07, as strconv gives it, as 1e-7.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// AppendJSONTime appends t as time.Time's MarshalJSON writes it: a quoted
// RFC 3339 time with nanoseconds as needed. A year outside [0, 9999] (or
// a zone offset of a day or more) is ErrUnsupportedValue.
func AppendJSONTime(dst []byte, t time.Time) ([]byte, error) {
	out, err := t.AppendText(append(dst, '"'))
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrUnsupportedValue, err)
	}
	return append(out, '"'), nil
}

// AppendJSONUUID appends id as a quoted canonical UUID, as its
// MarshalText gives it.
func AppendJSONUUID(dst []byte, id uuid.UUID) []byte {
	dst = append(dst, '"')
	dst = appendUUID(dst, id)
	return append(dst, '"')
}

// AppendJSONDate appends d as a quoted YYYY-MM-DD, as its MarshalText
// gives it.
func AppendJSONDate(dst []byte, d Date) []byte {
	dst = append(dst, '"')
	dst = d.In(time.UTC).AppendFormat(dst, dateLayout)
	return append(dst, '"')
}

// AppendJSONValue appends v encoded by json.Marshal: the way out for the
// values a schema leaves untyped (Go type any), which only reflection can
// write.
func AppendJSONValue(dst []byte, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, data...), nil
}

const hexDigits = "0123456789abcdef"

// appendUUID appends id in its canonical form, as id.String() gives.
func appendUUID(dst []byte, id uuid.UUID) []byte {
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0x0f])
	}
	return dst
}

// AppendJSONString appends s as a JSON string exactly as encoding/json
// writes it: HTML characters, control characters, U+2028 and U+2029
// escaped, invalid UTF-8 replaced by U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
