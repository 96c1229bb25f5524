package payload

import (
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

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
	// inRange reads a field of two characters as jsonschema/v5 does, with
	// strconv.Atoi (which takes "+1" and "-0" too); two digits, the common
	// case, without it.
	inRange := func(str string, lo, hi int) (int, bool) {
		n := 0
		if d0, d1 := str[0]-'0', str[1]-'0'; d0 <= 9 && d1 <= 9 {
			n = int(d0)*10 + int(d1)
		} else {
			var err error
			if n, err = strconv.Atoi(str); err != nil {
				return 0, false
			}
		}
		if n < lo || n > hi {
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
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	// The hex digits in five words: 0-7, 9-16 and 17-24 (where the dashes
	// at 13, 18 and 23 count as digits, being checked above), 25-32 and
	// 28-35.
	const dash13 = 1 << (8*(13-9) + 7)
	const dash18and23 = 1<<(8*(18-17)+7) | 1<<(8*(23-17)+7)
	return hexWord(s[0:8]) == highBits &&
		hexWord(s[9:17])|dash13 == highBits &&
		hexWord(s[17:25])|dash18and23 == highBits &&
		hexWord(s[25:33]) == highBits &&
		hexWord(s[28:36]) == highBits
}

// highBits is the top bit of each byte of a word.
const highBits = 0x8080808080808080

// hexWord returns, for eight bytes read as a little-endian word, a word
// with the top bit of each byte set where that byte is an ASCII hex digit.
func hexWord(b string) uint64 {
	_ = b[7] // one bounds check for the eight below
	x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	// For bytes below 0x80 (a byte at or above it fails the last term, and
	// what its carries do to the bytes above no longer matters), adding
	// 0x80-lo sets the top bit of a byte >= lo, adding 0x7f-hi that of a
	// byte > hi, with no carry out of the byte. A-F are a-f once bit 5 is
	// set; digits have it set already.
	const ones = 0x0101010101010101
	digit := (x + (0x80-'0')*ones) &^ (x + (0x7f-'9')*ones)
	lower := x | 0x20*ones
	letter := (lower + (0x80-'a')*ones) &^ (lower + (0x7f-'f')*ones)
	return (digit | letter) &^ x & highBits
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
