package bus

import (
	"bytes"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The publish path writes without reflection where it can, measured with
// BenchmarkPublishSync (go test -bench -memprofile):
//
//   - appendEnvelope writes the envelope directly, the payload copied as
//     the bytes just encoded and validated, not rescanned to compact it;
//   - a payload.Payload encodes itself into a pooled buffer; any other
//     value goes through a pooled json.Encoder (same output as
//     json.Marshal);
//   - newEventID draws ids from a pooled ChaCha8 generator seeded from
//     crypto/rand, not 16 bytes from the operating system each;
//   - messages share read-only header values and set Nats-Msg-Id
//     themselves, without Header.Set, strconv.Itoa or option parsing.

// scratch is the reusable memory of one publish: the payload's encoding
// and the envelope's.
type scratch struct {
	payload bytes.Buffer
	enc     *json.Encoder // writes into payload
	direct  []byte        // a payload.Payload's own encoding
	body    []byte
}

// maxPooledScratch is the largest buffer put back into the pool; a rare
// huge payload does not keep its memory.
const maxPooledScratch = 64 << 10

var scratchPool = sync.Pool{New: func() any {
	s := &scratch{}
	s.enc = json.NewEncoder(&s.payload)
	return s
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if s.payload.Cap() > maxPooledScratch || cap(s.body) > maxPooledScratch || cap(s.direct) > maxPooledScratch {
		return
	}
	s.payload.Reset()
	s.body, s.direct = s.body[:0], s.direct[:0]
	scratchPool.Put(s)
}

// encodePayload checks v, a payload of ev, and encodes it; it returns the
// bytes, valid until s is reused, and the version of the schema they
// follow. A generated payload (payload.Payload) checks and encodes itself
// and says its version; any other value is encoded by encoding/json, its
// encoding checked by ev.ValidateJSON, and sent as the current version.
// Errors: a *payload.ValidationError for a payload that breaks its schema,
// has no JSON encoding or is not a JSON object; ErrInvalidPayload wrapped
// for a payload of another event or of a version the catalog does not
// keep.
func (s *scratch) encodePayload(ev *spec.Event, v any) ([]byte, int, error) {
	if t, ok := v.(payload.Payload); ok {
		// Validate first: it also refuses a nil pointer.
		if err := t.Validate(); err != nil {
			return nil, 0, invalidPayload(ev.Subject, err)
		}
		if got := t.EventSubject(); got != ev.Subject {
			return nil, 0, fmt.Errorf("%w for %q: a payload of %q", ErrInvalidPayload, ev.Subject, got)
		}
		version := t.EventVersion()
		if _, known := ev.Validator(version); !known {
			return nil, 0, fmt.Errorf("%w for %q: version %d is not one the catalog keeps (%s)", ErrInvalidPayload, ev.Subject, version, versionList(ev))
		}
		var err error
		if s.direct, err = t.AppendJSON(s.direct[:0]); err != nil {
			return nil, 0, unencodable(ev.Subject, err)
		}
		return s.direct, version, nil
	}
	s.payload.Reset()
	if err := s.enc.Encode(v); err != nil {
		return nil, 0, unencodable(ev.Subject, err)
	}
	b := s.payload.Bytes()
	b = b[:len(b)-1] // Encode ends the value with a newline
	if !isJSONObject(b) {
		return nil, 0, &payload.ValidationError{Subject: ev.Subject, Violations: []payload.Violation{{Message: "payload must be a JSON object"}}}
	}
	if ev.ValidateJSON != nil {
		if err := ev.ValidateJSON(b); err != nil {
			return nil, 0, invalidPayload(ev.Subject, err)
		}
	}
	return b, ev.Version, nil
}

// versionList is the versions the catalog keeps of ev, for messages:
// "1, 2".
func versionList(ev *spec.Event) string {
	vs := ev.Versions()
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}

// unencodable is the error of a payload of subject that has no JSON
// encoding.
func unencodable(subject string, err error) error {
	return &payload.ValidationError{Subject: subject, Violations: []payload.Violation{{Message: "cannot encode payload: " + err.Error()}}}
}

// errEnvelopeTime: the envelope's timestamp cannot be written in RFC 3339.
var errEnvelopeTime = errors.New("timestamp year outside [0,9999]")

// appendEnvelope appends env's JSON encoding to dst: the bytes
// json.Marshal(env) gives, fields in declaration order, for a payload that
// is itself the output of json.Marshal (compact, HTML-escaped). The
// payload is copied as it is; the caller vouches for it.
func appendEnvelope(dst []byte, env *Envelope) ([]byte, error) {
	if y := env.Timestamp.Year(); y < 0 || y > 9999 {
		return dst, errEnvelopeTime
	}
	dst = append(dst, `{"id":`...)
	dst = payload.AppendJSONUUID(dst, env.ID)
	dst = append(dst, `,"subject":`...)
	dst = payload.AppendJSONString(dst, env.Subject)
	dst = append(dst, `,"correlation_id":`...)
	dst = payload.AppendJSONString(dst, env.CorrelationID)
	dst = append(dst, `,"organization_id":`...)
	dst = payload.AppendJSONUUID(dst, env.OrganizationID)
	dst = append(dst, `,"timestamp":"`...)
	dst = appendRFC3339Nano(dst, env.Timestamp)
	dst = append(dst, `","source":`...)
	dst = payload.AppendJSONString(dst, env.Source)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, int64(env.Version), 10)
	dst = append(dst, `,"payload":`...)
	if len(env.Payload) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, env.Payload...)
	}
	return append(dst, '}'), nil
}

// appendRFC3339Nano appends t, in UTC with a year in [0,9999], as
// t.AppendFormat(dst, time.RFC3339Nano) does, without parsing the layout.
func appendRFC3339Nano(dst []byte, t time.Time) []byte {
	if t.Location() != time.UTC {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// EnvelopeVersion returns the version of an encoded envelope, 0 when it
// has none. The envelopes this package writes (and json.Marshal of an
// Envelope) have "version" before "payload", and no string before it can
// hold an unescaped quote: the first `,"version":` is the envelope's own.
// Anything else is decoded.
func EnvelopeVersion(data []byte) int {
	const key = `,"version":`
	if i := bytes.Index(data, []byte(key)); i >= 0 {
		rest := data[i+len(key):]
		n := 0
		for n < len(rest) && n < 9 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n > 0 && n < len(rest) && (rest[n] == ',' || rest[n] == '}') {
			v, _ := strconv.Atoi(string(rest[:n]))
			return v
		}
	}
	var v struct {
		Version int `json:"version"`
	}
	_ = json.Unmarshal(data, &v)
	return v.Version
}

// envelopeSize is an upper bound of the encoded envelope's length, for
// sizing its buffer: fixed text, two UUIDs, a timestamp, the strings
// escaped at worst as \u00XX, the version and the payload.
func envelopeSize(env *Envelope) int {
	return 200 + 6*(len(env.Subject)+len(env.CorrelationID)+len(env.Source)) + len(env.Payload)
}

// idSources hands out ChaCha8 generators, each seeded from crypto/rand:
// a cryptographically strong stream, drawn without a system call per id.
var idSources = sync.Pool{New: func() any {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic("bus: cannot seed event ids from crypto/rand: " + err.Error())
	}
	return rand.NewChaCha8(seed)
}}

// newEventID returns a random (version 4) UUID.
func newEventID() uuid.UUID {
	src := idSources.Get().(*rand.ChaCha8)
	var id uuid.UUID
	_, _ = src.Read(id[:]) // never fails
	idSources.Put(src)
	id[6] = (id[6] & 0x0f) | 0x40 // version 4
	id[8] = (id[8] & 0x3f) | 0x80 // variant RFC 4122
	return id
}

// versionHeaders holds the Giia-Version header values of the usual
// versions, shared read-only by every message.
var versionHeaders = func() [][]string {
	vs := make([][]string, 32)
	for i := range vs {
		vs[i] = []string{strconv.Itoa(i)}
	}
	return vs
}()

func versionHeader(v int) []string {
	if v >= 0 && v < len(versionHeaders) {
		return versionHeaders[v]
	}
	return []string{strconv.Itoa(v)}
}

// outMsg is a message and its id header value in one allocation.
type outMsg struct {
	msg nats.Msg
	id  [1]string
}

// newMessage returns the message carrying body, an encoded envelope of
// the given version published by source, with Nats-Msg-Id set to id
// unless id is empty. sourceHeader is []string{source}, shared
// read-only; a header value is never modified in place, only replaced.
func newMessage(subject string, sourceHeader []string, version int, body []byte, id string) *nats.Msg {
	m := &outMsg{}
	m.msg.Header = make(nats.Header, 3)
	return m.fill(subject, sourceHeader, version, body, id)
}

func (m *outMsg) fill(subject string, sourceHeader []string, version int, body []byte, id string) *nats.Msg {
	m.msg.Subject, m.msg.Data = subject, body
	m.msg.Header[HeaderSource] = sourceHeader
	m.msg.Header[HeaderVersion] = versionHeader(version)
	if id != "" {
		m.id[0] = id
		m.msg.Header[jetstream.MsgIDHeader] = m.id[:]
	}
	return &m.msg
}

// A synchronous publish is done with its message once it returns (nats.go
// copies what it sends): Publish reuses messages and their header maps.
var msgPool = sync.Pool{New: func() any {
	m := &outMsg{}
	m.msg.Header = make(nats.Header, 4)
	return m
}}

// getMessage is newMessage with a pooled message; give it back with
// putMessage once the publish returned.
func getMessage(subject string, sourceHeader []string, version int, body []byte, id string) *outMsg {
	m := msgPool.Get().(*outMsg)
	m.fill(subject, sourceHeader, version, body, id)
	return m
}

func putMessage(m *outMsg) {
	h := m.msg.Header
	for k := range h {
		delete(h, k) // a trace context may have added keys
	}
	m.msg = nats.Msg{Header: h}
	m.id[0] = ""
	msgPool.Put(m)
}
