package compat

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// The schemas of the three-commit sequence of issue 11, on an open object:
// note added as a string, removed, added again as an integer.
var (
	noNote      = strings.Replace(openBase, `"note": {"type": "string", "maxLength": 100},`, "", 1)
	stringNote  = openBase
	integerNote = strings.Replace(openBase, `"note": {"type": "string", "maxLength": 100}`, `"note": {"type": "integer"}`, 1)
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// commit is one commit of a sequence: its catalog and the history
// "eventgen history" leaves in it, as written to the file.
type commit struct {
	cat     *catalog.Catalog
	history *History
}

// record returns the commit of cat whose history is prev's, updated at now.
func record(t *testing.T, prev *History, cat *catalog.Catalog, now time.Time) commit {
	t.Helper()
	h := &History{}
	if prev != nil {
		var err error
		h, err = ParseHistory("h.json", prev.Marshal())
		require.NoError(t, err)
	}
	h.Update(cat, now)
	reread, err := ParseHistory("h.json", h.Marshal())
	require.NoError(t, err)
	return commit{cat, reread}
}

func withStream(c *catalog.Catalog, maxAge time.Duration) *catalog.Catalog {
	c.Stream = catalog.Stream{Name: "SHOP", MaxAge: maxAge}
	return c
}

// check runs Check of cur against base, both with their histories.
func check(t *testing.T, base, cur commit, now time.Time) *Report {
	t.Helper()
	r, err := Check(base.cat, cur.cat, Options{BaseHistory: base.history, History: cur.history, Now: now})
	require.NoError(t, err)
	return r
}

// TestTransitiveSequence: each step passes against its parent, the last
// breaks readers of the first, whose events are still in the stream; the
// history refuses it, and once those events are gone the reserved name
// still does.
func TestTransitiveSequence(t *testing.T) {
	cat := func(schema string) *catalog.Catalog {
		return withStream(catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: schema}), 720*time.Hour)
	}
	c0 := record(t, nil, cat(noNote), t0)
	c1 := record(t, c0.history, cat(stringNote), t0.Add(24*time.Hour))
	c2 := record(t, c1.history, cat(noNote), t0.Add(48*time.Hour))

	assert.True(t, check(t, c0, c1, t0.Add(24*time.Hour)).OK(), "an optional property added to an open object")
	assert.True(t, check(t, c1, c2, t0.Add(48*time.Hour)).OK(), "an optional property removed from an open object")
	v := c2.history.Version(subject, 1)
	require.NotNil(t, v)
	assert.Len(t, v.Revisions, 3)
	assert.Equal(t, []Reserved{{Field: "note", Types: []string{"string"}, Removed: t0.Add(48 * time.Hour)}}, v.Reserved)

	// Against the parent alone the last step passes: the check of old.
	now := t0.Add(72 * time.Hour)
	c3 := record(t, c2.history, cat(integerNote), now)
	alone, err := Check(c2.cat, c3.cat, Options{Now: now})
	require.NoError(t, err)
	assert.True(t, alone.OK(), "without the history only the parent is compared")

	r := check(t, c2, c3, now)
	assert.False(t, r.OK())
	require.Len(t, r.Breaking, 1, "%v", r.Breaking)
	f := r.Breaking[0]
	assert.Equal(t, TypeChanged, f.Change)
	assert.Equal(t, "note", f.Field)
	assert.True(t, f.Transitive())
	assert.Equal(t, `schemas/orders/order_placed.json:10: /properties/note/type: shop.order.placed: field "note": `+
		`type changed from "string" to "integer" (against version 1 as recorded 2026-01-02T12:00:00Z in catalog/schema-history.json): `+
		`new events can fail old readers and retained old events can fail new readers; affects consumers billing, shipping`, f.String())

	// A version raise does not accept it: the events of version 1 stay.
	bumped := edit(t, integerNote, `"title": "Order placed"`, `"title": "Order placed, v2"`)
	e2 := event(2)
	e2.Versions = []catalog.EventVersion{{Version: 1, Schema: payloadV1}}
	raised := withStream(catalogOf(t, []catalog.Event{e2}, map[string]string{payload: bumped, payloadV1: integerNote}), 720*time.Hour)
	r, err = Check(c2.cat, raised, Options{BaseHistory: c2.history, History: record(t, c2.history, raised, now).history, Now: now})
	require.NoError(t, err)
	require.NotEmpty(t, r.Breaking)
	for _, f := range r.Breaking {
		assert.Equal(t, 1, f.Version, f.String())
	}

	// Once the string notes are out of the stream, the name stays reserved.
	later := t0.Add(48*time.Hour + 720*time.Hour + DeployMargin + time.Hour)
	c3 = record(t, c2.history, cat(integerNote), later)
	r = check(t, c2, c3, later)
	require.Len(t, r.Breaking, 1, "%v", r.Breaking)
	f = r.Breaking[0]
	assert.Equal(t, PropertyReserved, f.Change)
	assert.Equal(t, "/properties/note", f.Pointer)
	assert.Contains(t, f.String(), `field "note": property "note" was removed from version 1 on 2026-01-03 as string and comes back as integer: a removed name stays reserved`)
	assert.Len(t, c3.history.Version(subject, 1).Revisions, 2, "the expired revisions are pruned: the one of c2, and c3's")

	// It may come back with its type.
	c3 = record(t, c2.history, cat(stringNote), later)
	assert.True(t, check(t, c2, c3, later).OK())

	// The allow-list accepts it.
	r, err = Check(c2.cat, record(t, c2.history, cat(integerNote), later).cat, Options{
		BaseHistory: c2.history, History: record(t, c2.history, cat(integerNote), later).history, Now: later,
		Allow: []Allow{{Subject: subject, Pointer: "/properties/note", Change: PropertyReserved, Reason: "no reader kept them"}},
	})
	require.NoError(t, err)
	assert.True(t, r.OK())
}

func TestHistoryVersions(t *testing.T) {
	v1 := withStream(catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: base}), 720*time.Hour)
	e := event(2)
	e.PublishVersion = 1
	e.Versions = []catalog.EventVersion{{Version: 1, Schema: payloadV1}}
	pinned := withStream(catalogOf(t, []catalog.Event{e}, map[string]string{payload: openBase, payloadV1: base}), 720*time.Hour)
	e.PublishVersion = 0
	current := withStream(catalogOf(t, []catalog.Event{e}, map[string]string{payload: openBase, payloadV1: base}), 720*time.Hour)
	dropped := withStream(catalogOf(t, []catalog.Event{event(2)}, map[string]string{payload: openBase}), 720*time.Hour)

	c0 := record(t, nil, v1, t0)
	c1 := record(t, c0.history, pinned, t0.Add(time.Hour))
	assert.Nil(t, c1.history.Version(subject, 1).Superseded, "pinned: still sent")
	assert.Nil(t, c1.history.Version(subject, 2).Superseded, "not sent yet")
	assert.True(t, check(t, c0, c1, t0.Add(time.Hour)).OK())

	c2 := record(t, c1.history, current, t0.Add(2*time.Hour))
	assert.Equal(t, t0.Add(2*time.Hour), *c2.history.Version(subject, 1).Superseded)
	assert.True(t, check(t, c1, c2, t0.Add(2*time.Hour)).OK())
	assert.Empty(t, c2.history.Stale(current))
	assert.Equal(t, []string{subject}, c1.history.Stale(current), "the pin was lifted since")

	// Dropping version 1 while its events may be in the stream breaks.
	now := t0.Add(3 * time.Hour)
	c3 := record(t, c2.history, dropped, now)
	r := check(t, c2, c3, now)
	require.Len(t, r.Breaking, 1)
	assert.Equal(t, VersionRemoved, r.Breaking[0].Change)
	assert.Contains(t, r.Breaking[0].String(), `/versions/1: shop.order.placed: version 1 removed from "versions": its events may still be in the stream (it stopped being published 2026-01-01T14:00:00Z; max_age 720h0m0s)`)

	// Without a history nobody knows when it stopped: it is retained.
	r, err := Check(current, dropped, Options{Now: now})
	require.NoError(t, err)
	require.Len(t, r.Breaking, 1)
	assert.Contains(t, r.Breaking[0].Why, "the history does not say when it stopped being published")

	// After max_age and the deploy margin it may go.
	later := t0.Add(2*time.Hour + 720*time.Hour + DeployMargin + time.Minute)
	c3 = record(t, c2.history, dropped, later)
	assert.True(t, check(t, c2, c3, later).OK())
	assert.Nil(t, c3.history.Version(subject, 1), "pruned")

	// Editing a kept version incompatibly breaks, and a raise does not help.
	narrowed := withStream(catalogOf(t, []catalog.Event{e}, map[string]string{payload: openBase, payloadV1: edit(t, base, `"minimum": 1`, `"minimum": 5`)}), 720*time.Hour)
	r = check(t, c2, record(t, c2.history, narrowed, now), now)
	require.Len(t, r.Breaking, 1)
	assert.Equal(t, Change("minimum-raised"), r.Breaking[0].Change)
	assert.Equal(t, 1, r.Breaking[0].Version)
	assert.Contains(t, r.Breaking[0].String(), "(against version 1 in the base)")
}

func TestHistoryProblems(t *testing.T) {
	cat := withStream(catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: base}), 720*time.Hour)
	edited := withStream(catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: edit(t, base, `"title": "Order placed"`, `"title": "Placed"`)}), 720*time.Hour)
	c0 := record(t, nil, cat, t0)

	// A history that does not record the catalog.
	r, err := Check(cat, edited, Options{BaseHistory: c0.history, History: c0.history, Now: t0})
	require.NoError(t, err)
	require.Len(t, r.History, 1)
	assert.Equal(t, "catalog/schema-history.json: the history does not record the catalog as it is (shop.order.placed): run go generate ./... (or eventgen history) and commit it", r.History[0].String())
	assert.False(t, r.OK())

	// A history that lost what the base's retains.
	r, err = Check(cat, cat, Options{BaseHistory: c0.history, History: nil, Now: t0, BaseLabel: "main"})
	require.NoError(t, err)
	require.Len(t, r.History, 2)
	assert.Contains(t, r.History[0].Message, "the history does not record the catalog as it is")
	assert.Contains(t, r.History[1].Message, "the history lost the schema of shop.order.placed version 1 recorded 2026-01-01T12:00:00Z, which main has")

	c1 := record(t, c0.history, edited, t0.Add(time.Hour))
	c1.history.Version(subject, 1).Reserved = []Reserved{{Field: "x", Removed: t0}}
	trimmed := record(t, nil, edited, t0.Add(time.Hour))
	got := lost(c1.history, trimmed.history, "h.json", "main", 0, t0)
	require.Len(t, got, 2)
	assert.Contains(t, got[1].Message, `the history lost the reserved property "x" of shop.order.placed version 1, which main has`)

	// Stale does not prune: time passing leaves a history up to date.
	assert.Empty(t, c0.history.Stale(cat))

	_, err = ParseHistory("h.json", []byte(`{"events": [], "bogus": 1}`))
	assert.ErrorContains(t, err, `h.json: not a schema history (json: unknown field "bogus")`)
	_, err = ParseHistory("h.json", []byte(`{"events": [{"subject": "a.b", "versions": [{"version": 1, "revisions": [{"schema": "s.json", "files": {"s.json": "sha256:00"}}]}]}]}`))
	assert.EqualError(t, err, "h.json: a.b version 1 names file s.json as sha256:00, which the history does not hold")
}

func TestHistoryRefsAndMerge(t *testing.T) {
	files := map[string]string{
		payload:                    `{"type": "object", "properties": {"qty": {"$ref": "../common/qty.json"}, "items": {"type": "array", "items": {"$ref": "../common/item.json#/$defs/item"}}}}`,
		"schemas/common/qty.json":  `{"type": "integer"}`,
		"schemas/common/item.json": `{"$defs": {"item": {"type": "object", "properties": {"sku": {"type": "string"}, "tags": {"type": "object", "additionalProperties": {"type": "string"}}, "next": {"$ref": "#/$defs/item"}}}}}`,
	}
	cat := catalogOf(t, []catalog.Event{event(1)}, files)
	h := &History{}
	assert.True(t, h.Record(cat, t0))
	assert.False(t, h.Record(cat, t0.Add(time.Hour)), "nothing new")
	r := h.Version(subject, 1).Revisions[0]
	assert.Len(t, r.Files, 3)
	fields, err := fieldTypes(newSide(cat), payload)
	require.NoError(t, err)
	var names []string
	for n := range fields {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{"qty", "items", "items[].sku", "items[].tags", "items[].next"}, names)
	assert.Equal(t, []string{"integer"}, fields["qty"].types)

	// Two histories merge: every revision, the more cautious times.
	other := &History{}
	other.Record(catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: base}), t0)
	m := merge(h, nil, other, h)
	assert.Len(t, m.Version(subject, 1).Revisions, 2)
	assert.Equal(t, "any type", typesText(nil))
	assert.Equal(t, "integer or null", typesText([]string{"integer", "null"}))
	assert.Equal(t, "no type", typesText([]string{}))
	assert.True(t, strings.HasPrefix(string(m.Marshal()), "{\n  \"comment\": \"Written by eventgen history"))
}
