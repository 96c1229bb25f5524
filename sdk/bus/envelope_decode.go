package bus

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/giia/events/sdk/payload"
)

// decodeEnvelope reads a consumed message once, with the
// payload.JSONScanner of the generated validators, checking what
// schemas/envelope.json says while it decodes, with no map[string]any and
// no reflection. FuzzDecodeEnvelope holds it to the schema (jsonschema/v5)
// plus encoding/json as the oracle.

// envelopeMembers are the envelope's keys, in the order of the schema.
var envelopeMembers = [...]string{"id", "subject", "correlation_id", "organization_id", "timestamp", "source", "version", "payload"}

// envelopeKeys are envelopeMembers for the scanner to recognise by their
// bytes.
var envelopeKeys = payload.NewKeys(envelopeMembers[:]...)

// maxSubject is the subject's maxLength in the envelope schema.
const maxSubject = 255

// decodeEnvelope checks data against the envelope schema and decodes it.
// It is stricter than the schema in one way: a repeated key is refused,
// where encoding/json would keep the last value and a schema check the
// map it decoded. Every failure wraps ErrInvalidMessage. The envelope's
// strings are copies; its Payload is a slice of data.
func decodeEnvelope(data []byte) (*Envelope, error) {
	env := new(Envelope)
	if err := decodeEnvelopeInto(env, data, false); err != nil {
		return nil, err
	}
	return env, nil
}

// decodeEnvelopeShared is decodeEnvelope whose strings, unless escaped,
// share data's memory instead of copying it: data must never change
// afterwards. A consumed message's data qualifies: nats.go allocates it
// for that message alone, and the runtime only reads it (the dead letter
// republishes it as it is). The payload, which handlers and decoders see,
// is a separate span of data from those strings.
func decodeEnvelopeShared(env *Envelope, data []byte) error {
	return decodeEnvelopeInto(env, data, true)
}

func decodeEnvelopeInto(env *Envelope, data []byte, shared bool) error {
	keep := strings.Clone
	if shared {
		keep = func(s string) string { return s }
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD: a different
	// value, not an error. JSON text is UTF-8 (RFC 8259).
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: envelope: not valid UTF-8", ErrInvalidMessage)
	}
	var s payload.JSONScanner
	s.Reset(data)
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// value reads the next value and reports whether it is of kind want;
	// if not, it records what member (the top level when "") holds instead
	// (unless the JSON itself is broken, which the scanner reports) and
	// skips the rest of it.
	value := func(want payload.JSONKind, member, wantText string) bool {
		k := s.Value()
		if k == want {
			return true
		}
		if k != payload.JSONInvalid {
			at := ""
			if member != "" {
				at = "/" + member + ": "
			}
			fail("%smust be %s, not %s", at, wantText, k)
			s.SkipContainer()
		}
		return false
	}
	if !value(payload.JSONObject, "", "an object") {
		return envelopeError(s.End(), problems)
	}
	var seen [len(envelopeMembers)]bool
	for s.MemberIn(envelopeKeys) {
		key := s.Key()
		i := memberIndex(key)
		switch {
		case i < 0:
			fail("/%s: unknown member (the envelope has %s)", payload.EscapeToken(key), payload.QuoteList(envelopeMembers[:]))
			s.Skip()
			continue
		case seen[i]:
			fail("/%s: repeated member", key)
			s.Skip()
			continue
		}
		seen[i] = true
		if key == "payload" {
			start := s.Start()
			if !value(payload.JSONObject, "payload", "an object") {
				continue
			}
			s.SkipContainer()
			end := s.Pos()
			env.Payload = json.RawMessage(data[start:end:end])
			continue
		}
		if key == "version" {
			if !value(payload.JSONNumber, "version", "an integer") {
				continue
			}
			// encoding/json decodes only plain integers into an int: 1.0
			// passes the schema's "integer" but not the decoding.
			v, err := strconv.ParseInt(string(s.Num()), 10, 0)
			switch {
			case err != nil:
				fail("/version: %s is not an integer of Go's int", s.Num())
			case v < 1:
				fail("/version: must be >= 1, not %d", v)
			default:
				env.Version = int(v)
			}
			continue
		}
		if !value(payload.JSONString, key, "a string") {
			continue
		}
		v := s.Str()
		switch key {
		case "id", "organization_id":
			id, ok := payload.ParseUUID(v)
			if !ok {
				fail("/%s: %q is not a UUID", key, v)
				continue
			}
			if key == "id" {
				env.ID = id
			} else {
				env.OrganizationID = id
			}
		case "subject":
			if n := utf8.RuneCountInString(v); n > maxSubject || !isSubject(v) {
				fail("/subject: %q is not a subject: lower-case dot-separated tokens of letters, digits and underscores, at most %d characters", v, maxSubject)
				continue
			}
			env.Subject = keep(v)
		case "correlation_id":
			if n := utf8.RuneCountInString(v); n < 1 || n > maxCorrelationID {
				fail("/correlation_id: length %d, want 1 to %d characters", n, maxCorrelationID)
				continue
			}
			env.CorrelationID = keep(v)
		case "timestamp":
			t, err := time.Parse(time.RFC3339, v)
			if !payload.IsDateTime(v) || err != nil {
				fail("/timestamp: %q is not an RFC 3339 date-time", v)
				continue
			}
			env.Timestamp = t
		case "source":
			if !isServiceName(v) {
				fail("/source: %q is not a service name: lower-case letters, digits and hyphens, starting with a letter", v)
				continue
			}
			env.Source = keep(v)
		}
	}
	syntax := s.End()
	if syntax == "" {
		var missing []string
		for i, ok := range seen {
			if !ok {
				missing = append(missing, envelopeMembers[i])
			}
		}
		if len(missing) > 0 {
			fail("missing properties: %s", payload.QuoteList(missing))
		}
	}
	return envelopeError(syntax, problems)
}

// envelopeError is the error of a scan that found a syntax error or
// problems, nil if it found neither.
func envelopeError(syntax string, problems []string) error {
	if syntax != "" {
		return fmt.Errorf("%w: envelope: not valid JSON: %s", ErrInvalidMessage, syntax)
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: envelope: %s", ErrInvalidMessage, joinReasons(problems))
}

func memberIndex(key string) int {
	for i, m := range envelopeMembers {
		if m == key {
			return i
		}
	}
	return -1
}

// isSubject reports whether s matches the envelope schema's subject
// pattern ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$: two tokens or more.
func isSubject(s string) bool {
	tokens := 0
	for token := range strings.SplitSeq(s, ".") {
		if !isLowerToken(token, '_') {
			return false
		}
		tokens++
	}
	return tokens >= 2
}

// isServiceName reports whether s matches the envelope schema's source
// pattern ^[a-z][a-z0-9-]*$.
func isServiceName(s string) bool { return isLowerToken(s, '-') }

// isLowerToken reports whether s is a lower-case letter followed by lower-case
// letters, digits and extra.
func isLowerToken(s string, extra byte) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == extra) {
			return false
		}
	}
	return true
}
