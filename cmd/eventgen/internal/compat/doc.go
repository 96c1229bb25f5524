// Package compat finds the breaking changes between two versions of the
// event catalog and its JSON Schemas: the check behind "eventgen check
// --against REF|DIR". It compares loaded catalogs (package catalog) and is
// made of pure functions: no files, no git.
//
// # Compatibility is full
//
// A change is compatible when both directions keep working:
//
//   - forward: readers still on the old schema read events written to the
//     new one ("new events can fail old readers" when not);
//   - backward: readers on the new schema read the events written to the
//     old one that the stream retains ("retained old events can fail new
//     readers" when not).
//
// So a schema may neither accept less (narrowing breaks backward) nor accept
// more (widening breaks forward) than it did, with one exception, the
// additive change of an open object described below. Every constraint
// keyword is therefore compared both ways: raising a minimum breaks retained
// events that sat below the new one, lowering it lets new events through
// that old readers reject. Schemas are compared after following every $ref
// on both sides, across files, so a change in schemas/common/ is reported
// once for every event that reaches it, and moving a definition to a shared
// file, or changing a $ref to a target with the same content, is no change.
//
// # Rules, keyword by keyword
//
//   - type: any change of the set of JSON types breaks; the finding says
//     whether it narrowed (integer from number, a type from none), widened
//     (number from integer, [T, "null"] from T) or changed. When the
//     non-null type changes nothing below it is compared. Adding "null"
//     (null-added) and removing it (null-removed) break.
//   - enum: a removed value breaks retained events that hold it; an added
//     value breaks old readers, which are closed (the generated Go enum has no
//     constant for it and validation rejects it). Order does not matter;
//     values compare as JSON (1 equals 1.0). Adding or removing the whole
//     keyword breaks too.
//   - const: adding, removing or changing it breaks.
//   - minimum, exclusiveMinimum, maximum, exclusiveMaximum: the tightest lower
//     and upper bounds are compared (for integer schemas "exclusiveMinimum:
//     0" equals "minimum: 1"); raising or lowering a bound, adding or
//     removing it, breaks (minimum-raised, maximum-lowered, ...).
//   - minLength, minItems, minProperties (absent is 0) and maxLength,
//     maxItems, maxProperties (absent is unbounded): any change breaks:
//     tightened it breaks backward, loosened forward.
//   - multipleOf (1 on an integer schema is no constraint), pattern, format:
//     adding, removing or changing breaks. Patterns compare as text, so an
//     equivalent rewrite of a regular expression is reported too; formats
//     are asserted by every reader, so they are constraints, not comments.
//   - uniqueItems: turning it on or off breaks.
//   - items: compared as a schema (absent is the schema true).
//   - properties and required: a property that disappears breaks when it
//     was required (new events lack it) or when the new object is closed
//     (retained events carry it and new readers reject unknown keys); an
//     optional property removed from an open object passes. A property that
//     appears breaks when it is required (retained events lack it) or when
//     the old object was closed (old readers reject the key); an optional
//     property added to an open object passes: open readers ignore keys they
//     do not know, and no writer of the catalog's SDK sends keys its schema
//     does not declare. A property removed and another of the same schema
//     and requiredness added in the same object is reported once, as a
//     rename, under the same rules. A property that turns required breaks
//     (retained events may lack it), one that turns optional too (new events
//     may omit it, old readers require it). Where the object's
//     additionalProperties is a schema (a map), a property that appears or
//     disappears is compared with that schema instead.
//   - additionalProperties: closing an object (false from true or absent)
//     breaks retained events that carried undeclared keys; opening one breaks
//     old readers, which reject the keys new writers may now send. A schema
//     (a map's values) is compared as a schema.
//   - the schema false, and schemas that stop or start being it: any change
//     breaks.
//   - annotations never break: $schema, $id, $comment, $defs, definitions,
//     title, description, examples, default, deprecated, readOnly,
//     writeOnly, $anchor, contentEncoding, contentMediaType.
//   - any other keyword (oneOf, anyOf, allOf, not, patternProperties, ...,
//     which eventgen does not generate): a change of its JSON text breaks
//     (keyword-changed), since its effect cannot be told apart.
//
// # Events
//
//   - an event removed breaks its consumers (event-removed, reported at the
//     old catalog entry, naming the old consumers); a removed subject whose
//     schema file now belongs to exactly one new subject is reported as
//     subject-changed;
//   - a publisher changed breaks (publisher-changed): consumers trust the
//     source of the envelope, and the old publisher's facade loses the event;
//   - a version lowered breaks (version-lowered);
//   - a new event, a consumer added or removed, a description or example
//     edited are compatible.
//
// # The stream
//
//   - renaming it breaks (stream-renamed): the retained events and the
//     consumers' durables stay in the old stream;
//   - lowering max_age breaks (max-age-lowered): a consumer down or behind
//     for longer than the new age loses events; 0 (unlimited) is the
//     highest;
//   - lowering the duplicates window breaks (duplicates-lowered): the
//     outbox's retries after an outage are deduplicated by it;
//   - moving the dead letters (dead-letters-moved: another stream or
//     prefix) strands those already stored;
//   - subjects added, max_age or duplicates raised, replicas changed are
//     compatible (subjects that no longer cover an event are a catalog
//     error already).
//
// These findings name the subject "stream NAME" and the pointer
// "/stream/KEY"; no version can accept them, only the allow-list.
//
// # Every retained version
//
// Check compares more than the two catalogs. The schema history
// (catalog/schema-history.json, see History; "eventgen history" keeps it)
// holds, for each event and version, every schema the version had whose
// events may still be in the stream, and the property names removed from
// it. Check compares each version the new catalog lists ("version", and
// "versions:") with every revision of that version the old or the new
// history retains and with the old catalog's schema of it, and reports:
//
//   - any finding of the rules above against such a revision, its Against
//     naming the revision;
//   - property-reserved: a property removed from a version comes back with
//     other JSON types (reported when no retained revision reports the type
//     already);
//   - version-removed (pointer "/versions/N"): a version the old catalog
//     lists is missing from the new one while its events may be retained,
//     which includes raising the version without listing the old one;
//   - in Report.History, a history that does not record the new catalog,
//     or lost a revision or reserved name the old one retains.
//
// A revision is retained until the stream's max_age plus DeployMargin after
// it stopped being published (replaced, or its version superseded); when
// the history does not say, it is retained. A raised version accepts none
// of these findings: only the allow-list does.
//
// # Deliberate breaks
//
// Check accepts every finding of an event whose version was raised (a
// removed or renamed subject has no new version: it needs the allow-list),
// and every finding named by an entry of the allow-list
// (catalog/compat-allow.yaml, see ParseAllowList) with its subject, pointer
// and change. An entry of the allow-list that matches no finding is itself a
// problem (stale), unless the old version's allow-list holds the same entry:
// such an entry was consumed by an earlier change and is only reported as
// one to delete.
package compat
