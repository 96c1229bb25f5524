package bus

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendEnvelopeIsJSONMarshal(t *testing.T) {
	strs := []string{
		"", "plain", "execution.purchase_order.created", `quote " and \ backslash`,
		"<script>&</script>", "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
		"\u2028 and \u2029", "é, 漢字, 🙂", "bad \xff utf-8 \xc3", strings.Repeat("x", 128),
	}
	payloads := []any{
		map[string]any{"a": 1, "html": "<b>&</b>", "nested": []any{1.5, "x", nil, true}},
		struct {
			ID  uuid.UUID `json:"id"`
			Say string    `json:"say"`
		}{uuid.New(), "\u2028<>"},
	}
	times := []time.Time{
		time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC),
		time.Date(2026, 3, 4, 5, 6, 7, 120000000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, s := range strs {
		payload, err := json.Marshal(payloads[i%len(payloads)])
		require.NoError(t, err)
		env := Envelope{
			ID: uuid.New(), Subject: s, CorrelationID: strs[(i+3)%len(strs)], OrganizationID: uuid.New(),
			Timestamp: times[i%len(times)], Source: strs[(i+5)%len(strs)], Version: i * 7, Payload: payload,
		}
		want, err := json.Marshal(env)
		require.NoError(t, err)
		got, err := appendEnvelope(nil, &env)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "string %q", s)
		assert.LessOrEqual(t, len(got), envelopeSize(&env))
	}

	empty := Envelope{Timestamp: times[0]}
	want, err := json.Marshal(empty)
	require.NoError(t, err)
	got, err := appendEnvelope(nil, &empty)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "no payload is null")

	for _, y := range []int{-1, 10000} {
		_, err := appendEnvelope(nil, &Envelope{Timestamp: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)})
		assert.ErrorIs(t, err, errEnvelopeTime, "year %d", y)
		_, jerr := json.Marshal(Envelope{Timestamp: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)})
		assert.Error(t, jerr, "encoding/json refuses year %d too", y)
	}
}

func TestNewEventID(t *testing.T) {
	seen := map[uuid.UUID]bool{}
	for range 10000 {
		id := newEventID()
		require.False(t, seen[id], "repeated id %s", id)
		seen[id] = true
		assert.Equal(t, uuid.Version(4), id.Version())
		assert.Equal(t, uuid.RFC4122, id.Variant())
	}
}

func TestNewMessageHeaders(t *testing.T) {
	m := newMessage("a.b", []string{"orders"}, 3, []byte("{}"), "the-id")
	assert.Equal(t, "orders", m.Header.Get(HeaderSource))
	assert.Equal(t, "3", m.Header.Get(HeaderVersion))
	assert.Equal(t, "the-id", m.Header.Get(jetstream.MsgIDHeader))
	m = newMessage("a.b", []string{"orders"}, 1234, []byte("{}"), "")
	assert.Equal(t, "1234", m.Header.Get(HeaderVersion))
	assert.Empty(t, m.Header.Values(jetstream.MsgIDHeader))
	assert.Equal(t, []string{"7"}, versionHeader(7))
	assert.Equal(t, []string{"-1"}, versionHeader(-1))
}

func TestScratchPool(t *testing.T) {
	ev := &spec.Event{Subject: "a.b"}
	s := getScratch()
	b, _, err := s.encodePayload(ev, map[string]string{"a": "<"})
	require.NoError(t, err)
	assert.Equal(t, `{"a":"\u003c"}`, string(b), "as json.Marshal writes it")
	_, _, err = s.encodePayload(ev, func() {})
	assert.Error(t, err)
	putScratch(s)

	big := getScratch()
	_, _, err = big.encodePayload(ev, map[string]string{"x": strings.Repeat("x", 2*maxPooledScratch)})
	require.NoError(t, err)
	putScratch(big) // dropped, not pooled: nothing to observe but no panic
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "<&>", "\u2028", "\xff", "\x00", `"\`, "é🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(payload.AppendJSONString(nil, s)))
	})
}

// BenchmarkEncode compares, without the network, what a publish does
// before sending: encoding/json on payload and envelope with uuid.New and
// Header.Set (impl=reflect, what Publish did before), and the runtime's
// encoder (impl=sdk: pooled payload buffer, appendEnvelope, newEventID,
// shared header values).
func BenchmarkEncode(b *testing.B) {
	type line struct {
		ProductID uuid.UUID `json:"product_id"`
		SKU       string    `json:"sku"`
		Quantity  float64   `json:"quantity"`
	}
	payload := struct {
		OrderID   uuid.UUID `json:"order_id"`
		Supplier  uuid.UUID `json:"supplier_id"`
		CreatedBy string    `json:"created_by"`
		CreatedAt time.Time `json:"created_at"`
		Lines     []line    `json:"lines"`
	}{uuid.New(), uuid.New(), "buyer@example.com", time.Now(), []line{{uuid.New(), "BRG-6204", 40}, {uuid.New(), "BRG-6205", 12.5}}}
	cat := &spec.Catalog{
		Services: []spec.Service{{Name: "orders"}},
		Events:   []spec.Event{{Subject: "orders.created", Version: 1, Publisher: "orders", ValidateJSON: func([]byte) error { return nil }}},
	}
	p := &Publisher{cat: cat, service: "orders", sourceHeader: []string{"orders"}}
	ctx := context.Background()
	b.Run("impl=reflect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(payload)
			require.NoError(b, err)
			id := uuid.New()
			env := Envelope{ID: id, Subject: "orders.created", CorrelationID: id.String(), Timestamp: time.Now().UTC(),
				Source: "orders", Version: 1, Payload: data}
			body, err := json.Marshal(env)
			require.NoError(b, err)
			msg := &nats.Msg{Subject: env.Subject, Data: body, Header: nats.Header{}}
			msg.Header.Set(HeaderSource, "orders")
			msg.Header.Set(HeaderVersion, strconv.Itoa(1))
			msg.Header.Set(jetstream.MsgIDHeader, id.String())
		}
	})
	b.Run("impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := getScratch()
			var env Envelope
			msgID, err := p.encodeInto(ctx, s, &env, "orders.created", payload, nil)
			require.NoError(b, err)
			_ = newMessage(env.Subject, p.sourceHeader, env.Version, s.body, msgID)
			putScratch(s)
		}
	})
}

func TestAppendRFC3339Nano(t *testing.T) {
	base := time.Date(2026, 12, 3, 4, 5, 6, 0, time.UTC)
	times := []time.Time{
		base, base.Add(123456789), base.Add(100 * time.Millisecond), base.Add(time.Nanosecond), base.Add(999999999),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 10, time.UTC), time.Now().UTC(),
		time.Now(), // local: left to AppendFormat
		time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)),
	}
	for i := range 200 {
		times = append(times, base.Add(time.Duration(i)*7777777777777+time.Duration(i*i)))
	}
	for _, at := range times {
		assert.Equal(t, at.Format(time.RFC3339Nano), string(appendRFC3339Nano([]byte("x"), at))[1:], "%v", at)
	}
}

func TestEnvelopeVersion(t *testing.T) {
	env := Envelope{ID: uuid.New(), Subject: "a.b", CorrelationID: `x,"version":99,`, Timestamp: time.Now(),
		Source: "s", Version: 7, Payload: json.RawMessage(`{"version":5,"x":{"version":6}}`)}
	data, err := appendEnvelope(nil, &env)
	require.NoError(t, err)
	assert.Equal(t, 7, EnvelopeVersion(data))
	legacy, err := json.Marshal(env)
	require.NoError(t, err)
	assert.Equal(t, 7, EnvelopeVersion(legacy))
	assert.Equal(t, 3, EnvelopeVersion([]byte(`{"payload":{},"version":3}`)), "another order is decoded")
	assert.Equal(t, 0, EnvelopeVersion([]byte(`not json`)))
	assert.Equal(t, 12, EnvelopeVersion([]byte(`{"a":1,"version":12}`)))
}

func TestMessagePool(t *testing.T) {
	m := getMessage("a.b", []string{"orders"}, 2, []byte("{}"), "id-1")
	m.msg.Header.Set("traceparent", "00-x")
	putMessage(m)
	for range 10 { // whichever message the pool hands out
		m = getMessage("c.d", []string{"stock"}, 3, []byte("{1}"), "id-2")
		assert.Equal(t, "c.d", m.msg.Subject)
		assert.Equal(t, "{1}", string(m.msg.Data))
		assert.Len(t, m.msg.Header, 3)
		assert.Empty(t, m.msg.Header.Get("traceparent"))
		assert.Equal(t, "id-2", m.msg.Header.Get(jetstream.MsgIDHeader))
		assert.Equal(t, "stock", m.msg.Header.Get(HeaderSource))
		assert.Equal(t, "3", m.msg.Header.Get(HeaderVersion))
		putMessage(m)
	}
}
