package spec_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/spec"
)

func testCatalog() *spec.Catalog {
	return &spec.Catalog{
		Stream:   spec.Stream{Name: "EV", Subjects: []string{"a.>", "b.>"}, Duplicates: time.Minute, MaxAge: time.Hour},
		Services: []spec.Service{{Name: "a"}, {Name: "b"}, {Name: "x", External: true}},
		Events: []spec.Event{
			{Subject: "a.thing.created", Publisher: "a", Consumers: []string{"b", "x"}},
			{Subject: "b.thing.changed", Publisher: "b", Consumers: []string{"x"}},
		},
	}
}

func TestLookups(t *testing.T) {
	cat := testCatalog()
	ev, ok := cat.Event("b.thing.changed")
	require.True(t, ok)
	assert.Equal(t, "b", ev.Publisher)
	_, ok = cat.Event("c.nothing")
	assert.False(t, ok)
	_, ok = cat.Service("x")
	assert.True(t, ok)
	_, ok = cat.Service("nobody")
	assert.False(t, ok)
	assert.Equal(t, []string{"a.thing.created", "b.thing.changed"}, cat.ConsumedBy("x"))
	assert.Equal(t, []string{"a.thing.created"}, cat.PublishedBy("a"))
	assert.Empty(t, cat.ConsumedBy("a"))
}

func TestNames(t *testing.T) {
	cat := testCatalog()
	stream, prefix := spec.DeadLetters(cat)
	assert.Equal(t, "EV_DEAD_LETTERS", stream)
	assert.Equal(t, "deadletter", prefix)
	assert.Equal(t, "deadletter.x.a.thing.created", spec.DeadLetterSubject(cat, "x", "a.thing.created"))
	cat.Stream.DeadLetterStream, cat.Stream.DeadLetterPrefix = "DLQ", "dlq"
	assert.Equal(t, "dlq.x.a.thing.created", spec.DeadLetterSubject(cat, "x", "a.thing.created"))

	assert.Equal(t, "ddmrp-service", spec.ConsumerName("ddmrp"))
	assert.Equal(t, "ddmrp-service-execution_sales_order_created", spec.LegacyConsumerName("ddmrp", "execution.sales_order.created"))
	assert.Equal(t, "_INBOX.ddmrp", spec.InboxPrefix("ddmrp"))
	assert.Equal(t, "$JS.API.CONSUMER.CREATE.EV.x-service", spec.ConsumerCreateSubject("EV", spec.ConsumerConfig{Durable: "x-service", FilterSubjects: []string{"a.>"}}))
	assert.Equal(t, "$JS.API.CONSUMER.CREATE.EV.x-service-a.a.b", spec.ConsumerCreateSubject("EV", spec.ConsumerConfig{Durable: "x-service-a", FilterSubject: "a.b"}))
}

func TestStreamConfigs(t *testing.T) {
	cat := testCatalog()
	events, dead := spec.StreamConfigs(cat)
	assert.Equal(t, 1, events.Replicas, "replicas default to 1")
	assert.Equal(t, "EV", events.Name)
	assert.Equal(t, "EV_DEAD_LETTERS", dead.Name)
	assert.Equal(t, []string{"deadletter.>"}, dead.Subjects)
	assert.Equal(t, events.MaxAge, dead.MaxAge)
	data, err := json.Marshal(events)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"EV","description":"GIIA events (managed by sdk/bus)","subjects":["a.>","b.>"],
		"retention":"limits","discard":"old","max_age":3600000000000,"duplicate_window":60000000000,"storage":"file","num_replicas":1}`, string(data))
}

func TestConsumerConfigs(t *testing.T) {
	cat := testCatalog()
	cfg, err := spec.ConsumerConfigFor(cat, "x", spec.Delivery{})
	require.NoError(t, err)
	assert.Equal(t, spec.ConsumerConfig{
		Durable: "x-service", Description: "GIIA events consumed by x (managed by sdk/bus)",
		DeliverPolicy: "all", AckPolicy: "explicit", AckWait: spec.DefaultAckWait,
		MaxDeliver: spec.DefaultMaxDeliver + spec.VersionWaitDeliveries + spec.DeadLetterSpareDeliveries, FilterSubjects: []string{"a.thing.created", "b.thing.changed"},
	}, cfg)
	cfg, err = spec.ConsumerConfigFor(cat, "x", spec.Delivery{MaxDeliver: 2, AckWait: time.Second})
	require.NoError(t, err)
	assert.Equal(t, 2+spec.VersionWaitDeliveries+spec.DeadLetterSpareDeliveries, cfg.MaxDeliver)
	assert.Equal(t, time.Second, cfg.AckWait)

	legacy, err := spec.LegacyConsumerConfigs(cat, "x", spec.Delivery{})
	require.NoError(t, err)
	require.Len(t, legacy, 2)
	assert.Equal(t, "x-service-b_thing_changed", legacy[1].Durable)
	assert.Equal(t, "b.thing.changed", legacy[1].FilterSubject)
	assert.Empty(t, legacy[1].FilterSubjects)

	for _, tc := range []struct {
		cat     *spec.Catalog
		service string
		d       spec.Delivery
		want    error
	}{
		{cat, "nobody", spec.Delivery{}, spec.ErrUnknownService},
		{cat, "a", spec.Delivery{}, spec.ErrNotConsumer},
		{nil, "x", spec.Delivery{}, spec.ErrInvalidSettings},
		{cat, "x", spec.Delivery{MaxDeliver: -1}, spec.ErrInvalidSettings},
		{cat, "x", spec.Delivery{AckWait: -time.Second}, spec.ErrInvalidSettings},
	} {
		_, err := spec.ConsumerConfigFor(tc.cat, tc.service, tc.d)
		assert.ErrorIs(t, err, tc.want, "%q %+v", tc.service, tc.d)
		_, err = spec.LegacyConsumerConfigs(tc.cat, tc.service, tc.d)
		assert.ErrorIs(t, err, tc.want, "%q %+v", tc.service, tc.d)
	}
}

func TestPermissions(t *testing.T) {
	cat := testCatalog()
	pub, sub := spec.Permissions(cat, "b")
	assert.Equal(t, []string{"_INBOX.b.>"}, sub)
	assert.Contains(t, pub, "b.thing.changed", "its own event")
	assert.NotContains(t, pub, "a.thing.created", "not another's")
	assert.Contains(t, pub, "deadletter.b.a.thing.created")
	assert.Contains(t, pub, "$JS.API.CONSUMER.MSG.NEXT.EV.b-service")
	assert.Contains(t, pub, "$JS.API.CONSUMER.CREATE.EV.b-service-a_thing_created.a.thing.created")
	pub, sub = spec.Permissions(cat, "nobody")
	assert.Nil(t, pub)
	assert.Nil(t, sub)
	pub, sub = spec.Permissions(nil, "b")
	assert.Nil(t, pub)
	assert.Nil(t, sub)

	pub, sub = spec.AdminPermissions(cat)
	assert.Equal(t, []string{"$JS.API.>", "a.>", "b.>"}, pub)
	assert.Equal(t, []string{"_INBOX.>"}, sub)
	pub, _ = spec.AdminPermissions(nil)
	assert.Nil(t, pub)
}

func TestEventVersions(t *testing.T) {
	current := func([]byte) error { return nil }
	older := func([]byte) error { return assert.AnError }
	ev := spec.Event{Subject: "a.b", Version: 3, ValidateJSON: current, Older: []spec.EventVersion{{Version: 1}, {Version: 2, ValidateJSON: older}}}
	assert.Equal(t, []int{1, 2, 3}, ev.Versions())
	check, known := ev.Validator(3)
	require.True(t, known)
	assert.NoError(t, check(nil))
	check, known = ev.Validator(2)
	require.True(t, known)
	assert.ErrorIs(t, check(nil), assert.AnError)
	check, known = ev.Validator(1)
	assert.True(t, known)
	assert.Nil(t, check, "a version without a schema check")
	_, known = ev.Validator(4)
	assert.False(t, known)
	assert.Equal(t, 3, ev.Sends())
	ev.PublishVersion = 2
	assert.Equal(t, 2, ev.Sends(), "pinned")
}
