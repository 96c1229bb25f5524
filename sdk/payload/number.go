package payload

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Exact decimal arithmetic for the number constraints of a schema:
// bounds and multipleOf on a number literal as written, without rounding.

// Number is an exact decimal constant of a schema (a bound, a multipleOf,
// an enum value), parsed once: its value is 0.digits × 10^exp.
type Number struct {
	text   string
	neg    bool
	digits string // no leading or trailing zeros; "" for zero
	exp    int64

	isInt bool  // an integer of at most 18 digits, with the value
	value int64 // what CompareNumber compares short integer literals with
}

// MustNumber parses a JSON number literal of a schema; it panics if text is
// not one.
func MustNumber(text string) *Number {
	d, ok := parseDecimal([]byte(text))
	if !ok {
		panic("payload: not a JSON number: " + strconv.Quote(text))
	}
	n := &Number{text: text, neg: d.neg, digits: d.digitString(), exp: d.exp}
	if len(n.digits) <= 18 && n.exp >= int64(len(n.digits)) && n.exp <= 18 {
		v, _ := smallUint(&d)
		for range n.exp - int64(len(n.digits)) {
			v *= 10
		}
		n.isInt, n.value = true, int64(v)
		if n.neg {
			n.value = -n.value
		}
	}
	return n
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
	if n.isInt {
		if v, ok := shortInt(lit); ok {
			switch {
			case v < n.value:
				return -1
			case v > n.value:
				return 1
			}
			return 0
		}
		if n.value == 0 {
			return sign(lit)
		}
	}
	d, _ := parseDecimal(lit)
	return cmpDecimal(&d, n)
}

// shortInt returns the value of lit when it is an integer literal of at
// most 18 digits, without fraction or exponent.
func shortInt(lit []byte) (int64, bool) {
	i, neg := 0, len(lit) > 0 && lit[0] == '-'
	if neg {
		i++
	}
	if i == len(lit) || len(lit)-i > 18 {
		return 0, false
	}
	var v int64
	for ; i < len(lit); i++ {
		c := lit[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	if neg {
		v = -v
	}
	return v, true
}

// sign returns the sign of the value of a number literal, which is that
// of its first nonzero digit before the exponent: -1, 0 or +1.
func sign(lit []byte) int {
	for _, c := range lit {
		switch {
		case c >= '1' && c <= '9':
			if lit[0] == '-' {
				return -1
			}
			return 1
		case c == 'e' || c == 'E':
			return 0
		}
	}
	return 0
}

// IsInteger reports whether the number literal lit has an integer value,
// as jsonschema/v5 decides "integer" (1.0 and 1e2 are integers).
func IsInteger(lit []byte) bool {
	if _, ok := shortInt(lit); ok {
		return true
	}
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
