package bus

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus/bustest"
)

func TestParseAckReply(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tc := range []struct {
		reply string
		want  deliveryMeta
		ok    bool
	}{
		{"$JS.ACK.EV.stock-service.3.42.7.1767323045000000006.0", deliveryMeta{"stock-service", 3, 42, ts}, true},
		{"$JS.ACK._.ACCHASH.EV.stock-service.1.42.7.1767323045000000006.5.rnd", deliveryMeta{"stock-service", 1, 42, ts}, true},
		{"$JS.ACK.hub.ACCHASH.EV.stock-service.1.42.7.1767323045000000006.5", deliveryMeta{"stock-service", 1, 42, ts}, true},
		{"$JS.ACK.hub.ACCHASH.EV.c.1.42.7.1767323045000000006.5.rnd.more", deliveryMeta{"c", 1, 42, ts}, true},
		{"$JS.ACK.EV.c.x1.42.7.0.0", deliveryMeta{"c", 0, 42, time.Unix(0, 0)}, true}, // nats.go reads a bad number as 0
		{"$JS.ACK.EV.c.1.42.7.0", deliveryMeta{}, false},                              // eight tokens
		{"$JS.ACK.d.h.EV.c.1.42.7.0", deliveryMeta{}, false},                          // ten
		{"$JS.NAK.EV.c.1.42.7.0.0", deliveryMeta{}, false},
		{"", deliveryMeta{}, false},
	} {
		got, ok := parseAckReply(tc.reply)
		assert.Equal(t, tc.ok, ok, tc.reply)
		if tc.ok {
			assert.Equal(t, tc.want.Consumer, got.Consumer, tc.reply)
			assert.Equal(t, tc.want.NumDelivered, got.NumDelivered, tc.reply)
			assert.Equal(t, tc.want.StreamSeq, got.StreamSeq, tc.reply)
			assert.True(t, tc.want.Timestamp.Equal(got.Timestamp), "%s: %v", tc.reply, got.Timestamp)
		}
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = parseAckReply("$JS.ACK._.H.EV.c.1.42.7.1767323045000000006.5.rnd") }))
}

// TestMessageMetaMatchesNATS holds messageMeta to msg.Metadata() on
// messages of a real server, first deliveries and redeliveries.
func TestMessageMetaMatchesNATS(t *testing.T) {
	srv := bustest.RunServer(t)
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "META", Subjects: []string{"meta.>"}})
	require.NoError(t, err)
	for range 3 {
		_, err := js.Publish(ctx, "meta.x", []byte("{}"))
		require.NoError(t, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "META", jetstream.ConsumerConfig{Durable: "meta-service", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	check := func(nak bool) {
		batch, err := cons.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		n := 0
		for msg := range batch.Messages() {
			n++
			want, err := msg.Metadata()
			require.NoError(t, err)
			got, err := messageMeta(msg)
			require.NoError(t, err)
			assert.Equal(t, deliveryMeta{Consumer: want.Consumer, NumDelivered: want.NumDelivered, StreamSeq: want.Sequence.Stream, Timestamp: want.Timestamp}, got)
			if nak {
				require.NoError(t, msg.Nak())
			} else {
				require.NoError(t, msg.Ack())
			}
		}
		require.Equal(t, 3, n)
	}
	check(true)
	check(false) // redelivered
}
