package compat

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

func TestParseAllowList(t *testing.T) {
	got, err := ParseAllowList("catalog/compat-allow.yaml", []byte(`# Deliberate breaks.
allow:
  - subject: shop.order.placed
    pointer: /properties/qty/minimum
    change: minimum-raised
    reason: "  No order ever had a zero quantity.  "
  - {subject: shop.order.placed, pointer: /, change: event-removed, reason: Replaced by shop.order.created.}
`))
	require.NoError(t, err)
	assert.Equal(t, []Allow{
		{Subject: subject, Pointer: "/properties/qty/minimum", Change: "minimum-raised", Reason: "No order ever had a zero quantity.",
			Pos: catalog.Pos{File: "catalog/compat-allow.yaml", Line: 3}},
		{Subject: subject, Pointer: "/", Change: EventRemoved, Reason: "Replaced by shop.order.created.",
			Pos: catalog.Pos{File: "catalog/compat-allow.yaml", Line: 7}},
	}, got)

	for _, empty := range []string{"", "# nothing\n", "allow:\n", "allow: []\n", "~\n"} {
		got, err := ParseAllowList("a.yaml", []byte(empty))
		assert.NoError(t, err, empty)
		assert.Empty(t, got, empty)
	}

	for name, tt := range map[string]struct{ text, want string }{
		"invalid YAML":      {"allow: [", "a.yaml: invalid YAML: "},
		"not a mapping":     {"- 1\n", `a.yaml:1: the allow-list must be a mapping with the key "allow"`},
		"unknown top key":   {"allow: []\nallowed: []\n", `a.yaml:2: unknown key "allowed" in the allow-list (want "allow")`},
		"allow not a list":  {"allow: {}\n", `a.yaml:1: "allow" must be a list of entries`},
		"entry not a map":   {"allow: [x]\n", `a.yaml:1: an allow-list entry must be a mapping`},
		"reason missing":    {"allow:\n  - {subject: a.b, pointer: /, change: event-removed}\n", `a.yaml:2: allow-list entry is missing "reason"`},
		"reason empty":      {"allow:\n  - {subject: a.b, pointer: /, change: event-removed, reason: \" \"}\n", `a.yaml:2: "reason" must be a non-empty string`},
		"unknown entry key": {"allow:\n  - {subject: a.b, pointer: /, change: event-removed, reason: r, why: r}\n", `a.yaml:2: unknown key "why" in an allow-list entry (want one of "change", "pointer", "reason", "subject")`},
		"duplicate key":     {"allow:\n  - subject: a.b\n    subject: a.c\n    pointer: /\n    change: event-removed\n    reason: r\n", `a.yaml:3: duplicate key "subject"`},
		"bad pointer":       {"allow:\n  - {subject: a.b, pointer: properties/a, change: event-removed, reason: r}\n", `a.yaml:2: pointer "properties/a" is not a JSON pointer`},
		"unknown change":    {"allow:\n  - {subject: a.b, pointer: /, change: removed, reason: r}\n", `a.yaml:2: unknown change "removed"`},
		"not a string":      {"allow:\n  - {subject: [a], pointer: /, change: event-removed, reason: r}\n", `a.yaml:2: "subject" must be a non-empty string`},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseAllowList("a.yaml", []byte(tt.text))
			require.Error(t, err)
			assert.Nil(t, got)
			var diags catalog.Diagnostics
			require.ErrorAs(t, err, &diags)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestCheck(t *testing.T) {
	raised := edit(t, base, `"minimum": 1`, `"minimum": 2`, `"maxLength": 100`, `"maxLength": 50`)
	old := catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: base})
	cur := catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: raised})
	minimum := Allow{Subject: subject, Pointer: "/properties/qty/minimum", Change: "minimum-raised", Reason: "no order had a quantity of 1",
		Pos: catalog.Pos{File: "catalog/compat-allow.yaml", Line: 2}}
	stale := Allow{Subject: subject, Pointer: "/properties/qty/minimum", Change: "minimum-lowered", Reason: "r",
		Pos: catalog.Pos{File: "catalog/compat-allow.yaml", Line: 6}}
	carried := Allow{Subject: "shop.gone", Pointer: "/", Change: EventRemoved, Reason: "an earlier change",
		Pos: catalog.Pos{File: "catalog/compat-allow.yaml", Line: 10}}

	t.Run("no allow-list", func(t *testing.T) {
		r, err := Check(old, cur, Options{})
		require.NoError(t, err)
		assert.False(t, r.OK())
		assert.Len(t, r.Breaking, 2)
		assert.Empty(t, r.Accepted)
	})

	t.Run("allow-list", func(t *testing.T) {
		r, err := Check(old, cur, Options{Allow: []Allow{minimum, stale, carried}, BaseAllow: []Allow{carried}})
		require.NoError(t, err)
		assert.False(t, r.OK())
		require.Len(t, r.Breaking, 1)
		assert.Equal(t, Change("maxLength-lowered"), r.Breaking[0].Change)
		require.Len(t, r.Accepted, 1)
		assert.Equal(t, "allowed by catalog/compat-allow.yaml:2: no order had a quantity of 1", r.Accepted[0].Accepted)
		require.Len(t, r.Stale, 1)
		assert.Equal(t, `catalog/compat-allow.yaml:6: stale allow-list entry: no breaking change "minimum-lowered" of shop.order.placed at /properties/qty/minimum (remove the entry, or copy subject, pointer and change from a finding)`, r.Stale[0].String())
		assert.Equal(t, []Allow{carried}, r.Carried)
	})

	t.Run("every break allowed", func(t *testing.T) {
		maxLength := Allow{Subject: subject, Pointer: "/properties/note/maxLength", Change: "maxLength-lowered", Reason: "r", Pos: catalog.Pos{File: "a", Line: 1}}
		r, err := Check(old, cur, Options{Allow: []Allow{minimum, maxLength}})
		require.NoError(t, err)
		assert.True(t, r.OK())
		assert.Len(t, r.Accepted, 2)
	})

	t.Run("version raised", func(t *testing.T) {
		// Version 1 stays listed, with its schema: its events are in the stream.
		e := event(2)
		e.Versions = []catalog.EventVersion{{Version: 1, Schema: payloadV1}}
		bumped := catalogOf(t, []catalog.Event{e}, map[string]string{payload: raised, payloadV1: base})
		r, err := Check(old, bumped, Options{})
		require.NoError(t, err)
		assert.True(t, r.OK())
		require.Len(t, r.Accepted, 2)
		for _, f := range r.Accepted {
			assert.Equal(t, "version raised from 1 to 2", f.Accepted)
		}
		// An entry naming a change accepted by the version is not stale.
		r, err = Check(old, bumped, Options{Allow: []Allow{minimum}})
		require.NoError(t, err)
		assert.True(t, r.OK())
		assert.True(t, strings.HasPrefix(r.Accepted[1].Accepted, "allowed by") || strings.HasPrefix(r.Accepted[0].Accepted, "allowed by"))
	})

	t.Run("version raised without keeping the old one", func(t *testing.T) {
		bumped := catalogOf(t, []catalog.Event{event(2)}, map[string]string{payload: raised})
		r, err := Check(old, bumped, Options{})
		require.NoError(t, err)
		assert.False(t, r.OK())
		require.Len(t, r.Breaking, 1)
		assert.Equal(t, VersionRemoved, r.Breaking[0].Change)
		assert.Equal(t, "/versions/1", r.Breaking[0].Pointer)
		assert.Contains(t, r.Breaking[0].String(), `version raised from 1 to 2 without listing version 1 under "versions": its events may still be in the stream (it is published now`)
		assert.Len(t, r.Accepted, 2, "the schema changes are accepted by the raise")

		r, err = Check(old, bumped, Options{Allow: []Allow{{Subject: subject, Pointer: "/versions/1", Change: VersionRemoved, Reason: "no v1 reader left"}}})
		require.NoError(t, err)
		assert.True(t, r.OK())
	})

	t.Run("removed event needs the allow-list", func(t *testing.T) {
		empty := catalogOf(t, nil, nil)
		r, err := Check(old, empty, Options{})
		require.NoError(t, err)
		require.Len(t, r.Breaking, 1)
		assert.Equal(t, EventRemoved, r.Breaking[0].Change)
		r, err = Check(old, empty, Options{Allow: []Allow{{Subject: subject, Pointer: "/", Change: EventRemoved, Reason: "r"}}})
		require.NoError(t, err)
		assert.True(t, r.OK())
	})
}
