package catalog

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// jsonError is a syntax error in a JSON document, at a 1-based line and
// column (columns count runes, as yaml.v3 does).
type jsonError struct {
	Line, Col int
	Msg       string
}

func (e *jsonError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// jsonDuplicate is an object key that appears twice in one object.
type jsonDuplicate struct {
	Key         string
	First, Next *yaml.Node
}

// parseJSON reads exactly one JSON document (RFC 8259, as encoding/json
// accepts it) into a yaml.Node tree shaped like the one yaml.v3 builds for
// JSON input: a DocumentNode holding the value; objects are flow-style
// !!map nodes, arrays flow-style !!seq nodes, strings double-quoted !!str
// scalars, numbers !!int (no fraction or exponent) or !!float scalars
// keeping their text, and !!bool and !!null scalars. yaml.v3 itself cannot
// be used: it rejects valid JSON such as the "\/" escape or tab
// indentation, and accepts invalid JSON such as trailing commas.
//
// It returns the keys repeated within one object, which encoding/json
// silently accepts (the last one wins).
func parseJSON(data []byte) (*yaml.Node, []jsonDuplicate, error) {
	p := &jsonParser{data: data, line: 1, col: 1}
	p.skipSpace()
	root, err := p.value()
	if err != nil {
		return nil, nil, err
	}
	p.skipSpace()
	if p.off < len(p.data) {
		return nil, nil, p.errorf("invalid character %s after top-level value", p.quoteChar())
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Line: root.Line, Column: root.Column, Content: []*yaml.Node{root}}
	return doc, p.dups, nil
}

type jsonParser struct {
	data      []byte
	off       int
	line, col int
	depth     int // of objects and arrays open
	dups      []jsonDuplicate
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

func (p *jsonParser) errorf(format string, args ...any) error {
	return &jsonError{Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *jsonParser) eof() error {
	return p.errorf("unexpected end of JSON input")
}

// quoteChar quotes the character at the current offset for a message,
// in single quotes with Go escapes: 'x', '\n', '\ufeff', '\xff'.
func (p *jsonParser) quoteChar() string {
	r, size := utf8.DecodeRune(p.data[p.off:])
	switch {
	case r == '\'':
		return `'\''`
	case r == '"':
		return `'"'`
	case r == utf8.RuneError && size == 1:
		return fmt.Sprintf(`'\x%02x'`, p.data[p.off])
	}
	q := strconv.Quote(string(r))
	return "'" + q[1:len(q)-1] + "'"
}

// advance moves past one rune, keeping line and column.
func (p *jsonParser) advance() {
	r, size := utf8.DecodeRune(p.data[p.off:])
	p.off += size
	if r == '\n' {
		p.line++
		p.col = 1
	} else {
		p.col++
	}
}

func (p *jsonParser) skipSpace() {
	for p.off < len(p.data) {
		switch p.data[p.off] {
		case ' ', '\t', '\n', '\r':
			p.advance()
		default:
			return
		}
	}
}

func (p *jsonParser) node(kind yaml.Kind, tag string) *yaml.Node {
	return &yaml.Node{Kind: kind, Tag: tag, Line: p.line, Column: p.col}
}

func (p *jsonParser) value() (*yaml.Node, error) {
	if p.off >= len(p.data) {
		return nil, p.eof()
	}
	switch c := p.data[p.off]; {
	case c == '{' || c == '[':
		if p.depth++; p.depth > maxJSONDepth {
			return nil, p.errorf("exceeded max depth")
		}
		defer func() { p.depth-- }()
		if c == '{' {
			return p.object()
		}
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true", "!!bool")
	case c == 'f':
		return p.literal("false", "!!bool")
	case c == 'n':
		return p.literal("null", "!!null")
	}
	return nil, p.errorf("invalid character %s looking for beginning of value", p.quoteChar())
}

func (p *jsonParser) literal(word, tag string) (*yaml.Node, error) {
	n := p.node(yaml.ScalarNode, tag)
	for i := 0; i < len(word); i++ {
		if p.off >= len(p.data) {
			return nil, p.eof()
		}
		if p.data[p.off] != word[i] {
			return nil, p.errorf("invalid character %s in literal %s (expecting '%c')", p.quoteChar(), word, word[i])
		}
		p.advance()
	}
	n.Value = word
	return n, nil
}

func (p *jsonParser) object() (*yaml.Node, error) {
	n := p.node(yaml.MappingNode, "!!map")
	n.Style = yaml.FlowStyle
	p.advance() // {
	p.skipSpace()
	if p.off < len(p.data) && p.data[p.off] == '}' {
		p.advance()
		return n, nil
	}
	seen := map[string]*yaml.Node{}
	for {
		p.skipSpace()
		if p.off >= len(p.data) {
			return nil, p.eof()
		}
		if p.data[p.off] != '"' {
			return nil, p.errorf("invalid character %s looking for beginning of object key string", p.quoteChar())
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if first, ok := seen[key.Value]; ok {
			p.dups = append(p.dups, jsonDuplicate{Key: key.Value, First: first, Next: key})
		} else {
			seen[key.Value] = key
		}
		p.skipSpace()
		if p.off >= len(p.data) {
			return nil, p.eof()
		}
		if p.data[p.off] != ':' {
			return nil, p.errorf("invalid character %s after object key", p.quoteChar())
		}
		p.advance()
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, key, val)
		p.skipSpace()
		if p.off >= len(p.data) {
			return nil, p.eof()
		}
		switch p.data[p.off] {
		case ',':
			p.advance()
		case '}':
			p.advance()
			return n, nil
		default:
			return nil, p.errorf("invalid character %s after object key:value pair", p.quoteChar())
		}
	}
}

func (p *jsonParser) array() (*yaml.Node, error) {
	n := p.node(yaml.SequenceNode, "!!seq")
	n.Style = yaml.FlowStyle
	p.advance() // [
	p.skipSpace()
	if p.off < len(p.data) && p.data[p.off] == ']' {
		p.advance()
		return n, nil
	}
	for {
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, val)
		p.skipSpace()
		if p.off >= len(p.data) {
			return nil, p.eof()
		}
		switch p.data[p.off] {
		case ',':
			p.advance()
		case ']':
			p.advance()
			return n, nil
		default:
			return nil, p.errorf("invalid character %s after array element", p.quoteChar())
		}
	}
}

func (p *jsonParser) str() (*yaml.Node, error) {
	n := p.node(yaml.ScalarNode, "!!str")
	n.Style = yaml.DoubleQuotedStyle
	p.advance() // "
	var b strings.Builder
	for {
		if p.off >= len(p.data) {
			return nil, p.eof()
		}
		c := p.data[p.off]
		switch {
		case c == '"':
			p.advance()
			n.Value = b.String()
			return n, nil
		case c < ' ':
			return nil, p.errorf("invalid character %s in string literal", p.quoteChar())
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return nil, err
			}
			b.WriteRune(r)
		default:
			r, _ := utf8.DecodeRune(p.data[p.off:])
			b.WriteRune(r) // invalid UTF-8 becomes U+FFFD, as in encoding/json
			p.advance()
		}
	}
}

var jsonEscapes = map[byte]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape reads one backslash escape and returns the rune it stands for.
func (p *jsonParser) escape() (rune, error) {
	p.advance() // backslash
	if p.off >= len(p.data) {
		return 0, p.eof()
	}
	c := p.data[p.off]
	if r, ok := jsonEscapes[c]; ok {
		p.advance()
		return r, nil
	}
	if c != 'u' {
		return 0, p.errorf("invalid character %s in string escape code", p.quoteChar())
	}
	p.advance()
	r, err := p.hex4()
	if err != nil {
		return 0, err
	}
	if !utf16.IsSurrogate(r) {
		return r, nil
	}
	// A surrogate pair is two escapes; a lone surrogate becomes U+FFFD.
	if p.off+1 < len(p.data) && p.data[p.off] == '\\' && p.data[p.off+1] == 'u' {
		save := *p
		p.advance()
		p.advance()
		r2, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
			return dec, nil
		}
		*p = save
	}
	return utf8.RuneError, nil
}

func (p *jsonParser) hex4() (rune, error) {
	var r rune
	for range 4 {
		if p.off >= len(p.data) {
			return 0, p.eof()
		}
		c := p.data[p.off]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.errorf("invalid character %s in \\u hexadecimal character escape", p.quoteChar())
		}
		r = r<<4 | rune(d)
		p.advance()
	}
	return r, nil
}

func (p *jsonParser) number() (*yaml.Node, error) {
	n := p.node(yaml.ScalarNode, "!!int")
	start := p.off
	digits := func() int {
		k := 0
		for p.off < len(p.data) && p.data[p.off] >= '0' && p.data[p.off] <= '9' {
			p.advance()
			k++
		}
		return k
	}
	if p.data[p.off] == '-' {
		p.advance()
	}
	if p.off >= len(p.data) {
		return nil, p.eof()
	}
	switch c := p.data[p.off]; {
	case c == '0':
		p.advance()
	case c >= '1' && c <= '9':
		digits()
	default:
		return nil, p.errorf("invalid character %s in numeric literal", p.quoteChar())
	}
	if p.off < len(p.data) && p.data[p.off] == '.' {
		n.Tag = "!!float"
		p.advance()
		if digits() == 0 {
			if p.off >= len(p.data) {
				return nil, p.eof()
			}
			return nil, p.errorf("invalid character %s after decimal point in numeric literal", p.quoteChar())
		}
	}
	if p.off < len(p.data) && (p.data[p.off] == 'e' || p.data[p.off] == 'E') {
		n.Tag = "!!float"
		p.advance()
		if p.off < len(p.data) && (p.data[p.off] == '+' || p.data[p.off] == '-') {
			p.advance()
		}
		if digits() == 0 {
			if p.off >= len(p.data) {
				return nil, p.eof()
			}
			return nil, p.errorf("invalid character %s in exponent of numeric literal", p.quoteChar())
		}
	}
	n.Value = string(p.data[start:p.off])
	return n, nil
}
