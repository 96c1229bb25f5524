package bus

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// deliveryMeta is the part of jetstream.MsgMetadata the consumer uses.
type deliveryMeta struct {
	Consumer     string
	NumDelivered uint64 // 1 on first delivery
	StreamSeq    uint64
	Timestamp    time.Time // when the stream stored the message
}

// messageMeta returns what msg's reply subject says of its delivery, as
// msg.Metadata() does but without allocating: the consumer reads it for
// every message. Its errors are msg.Metadata()'s.
func messageMeta(msg jetstream.Msg) (deliveryMeta, error) {
	if m, ok := parseAckReply(msg.Reply()); ok {
		return m, nil
	}
	meta, err := msg.Metadata()
	if err != nil {
		return deliveryMeta{}, err
	}
	return deliveryMeta{Consumer: meta.Consumer, NumDelivered: meta.NumDelivered, StreamSeq: meta.Sequence.Stream, Timestamp: meta.Timestamp}, nil
}

// parseAckReply reads a JetStream ack subject with nats.go's rules
// (jetstream's internal parser, v1.55.0): nine tokens
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>
//
// or, from newer servers, eleven or more
//
//	$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>[.<random>...]
//
// with numbers that are not plain decimals read as 0, as nats.go does.
// ok is false where msg.Metadata() fails.
func parseAckReply(reply string) (m deliveryMeta, ok bool) {
	const v1Tokens, v2Tokens = 9, 12
	n := strings.Count(reply, ".") + 1
	if n < v1Tokens || (n > v1Tokens && n < v2Tokens-1) || !strings.HasPrefix(reply, "$JS.ACK.") {
		return m, false
	}
	rest := reply[len("$JS.ACK."):]
	if n > v1Tokens { // skip the domain and the account hash
		_, rest, _ = strings.Cut(rest, ".")
		_, rest, _ = strings.Cut(rest, ".")
	}
	var tokens [7]string // stream, consumer, delivered, sseq, cseq, tm, pending
	for i := range tokens {
		tokens[i], rest, _ = strings.Cut(rest, ".")
	}
	m.Consumer = tokens[1]
	m.NumDelivered = parseAckNum(tokens[2])
	m.StreamSeq = parseAckNum(tokens[3])
	m.Timestamp = time.Unix(0, int64(parseAckNum(tokens[5])))
	return m, true
}

// parseAckNum is nats.go's parser.ParseNum: a decimal, or 0.
func parseAckNum(d string) (n uint64) {
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}
