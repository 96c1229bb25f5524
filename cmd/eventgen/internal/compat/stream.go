package compat

import (
	"fmt"
	"slices"
	"time"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// The changes of the stream that carries every event (see the package
// documentation, "The stream"). No event's version can accept them: only
// the allow-list, whose entries name the subject "stream NAME" as the
// findings print it.
const (
	StreamRenamed     Change = "stream-renamed"
	MaxAgeLowered     Change = "max-age-lowered"
	DuplicatesLowered Change = "duplicates-lowered"
	DeadLettersMoved  Change = "dead-letters-moved"
)

// compareStream returns the breaking changes of the stream's settings.
func compareStream(old, new *catalog.Catalog) []Finding {
	os, ns := old.Stream, new.Stream
	if os.Name == "" {
		return nil // no catalog before: every event is new
	}
	subject := "stream " + ns.Name
	consumers := allConsumers(new)
	finding := func(change Change, key, what, why string) Finding {
		return Finding{Subject: subject, Change: change, Pos: ns.Pos, Pointer: "/stream/" + key, What: what, Why: why, Consumers: consumers}
	}
	var out []Finding
	if os.Name != ns.Name {
		out = append(out, finding(StreamRenamed, "name",
			fmt.Sprintf("stream renamed from %q to %q", os.Name, ns.Name),
			"the retained events and the consumers' durables stay in the old stream; the new one starts empty, so what consumers had not read yet is not delivered"))
	}
	if ns.MaxAge > 0 && (os.MaxAge == 0 || ns.MaxAge < os.MaxAge) {
		out = append(out, finding(MaxAgeLowered, "max_age",
			fmt.Sprintf("max_age lowered from %s to %s", durationText(os.MaxAge), durationText(ns.MaxAge)),
			"events are kept for less time: a consumer down or behind for longer loses events it has not read"))
	}
	if ns.Duplicates < os.Duplicates {
		out = append(out, finding(DuplicatesLowered, "duplicates",
			fmt.Sprintf("duplicates window lowered from %s to %s", durationText(os.Duplicates), durationText(ns.Duplicates)),
			"a publisher's retry after a shorter outage or restart is stored twice (the window must cover 2·T + B + M + R, see the README)"))
	}
	if os.DeadLetterStream != ns.DeadLetterStream || os.DeadLetterPrefix != ns.DeadLetterPrefix {
		out = append(out, finding(DeadLettersMoved, "dead_letter",
			fmt.Sprintf("dead letters moved from %s.* in %q to %s.* in %q", os.DeadLetterPrefix, os.DeadLetterStream, ns.DeadLetterPrefix, ns.DeadLetterStream),
			"dead letters already stored stay where replay no longer looks, and the services' permissions name the old subjects"))
	}
	return out
}

// durationText prints a duration as the catalog may, "unlimited" for 0.
func durationText(d time.Duration) string {
	if d == 0 {
		return "unlimited"
	}
	return d.String()
}

// allConsumers returns every service that consumes an event of c, sorted.
func allConsumers(c *catalog.Catalog) []string {
	var out []string
	for _, e := range c.Events {
		for _, s := range e.Consumers {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}
