// Package catalog loads the YAML event catalog and the JSON Schemas it
// names, checks every rule of the catalog, and reports each problem with its
// position. It knows nothing of Go; package model turns what it loads into
// Go types and names.
package catalog

import (
	"encoding/json"
	"time"

	"go.yaml.in/yaml/v3"
)

// Pos is a position in a catalog or schema file. File is the path as shown
// to the user: relative to the module root when the file lies inside it.
type Pos struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int // 1-based; 0 when unknown
}

// Catalog is the merged content of every YAML file of a catalog directory.
type Catalog struct {
	Dir      string   // the catalog directory, as shown to the user
	Files    []string // the YAML files read, sorted, as shown to the user
	Stream   Stream
	Services []Service // sorted by name
	Events   []Event   // sorted by subject

	// Schemas holds every schema file reached from an event, directly or
	// through $ref, keyed by its module-relative slash path
	// ("schemas/common/quantity.json").
	Schemas map[string]*SchemaFile
}

// Stream is the JetStream stream that carries every event.
type Stream struct {
	Name       string
	Subjects   []string
	Duplicates time.Duration
	MaxAge     time.Duration
	Replicas   int

	// Dead letters: DeadLetterPrefix.<service>.<original subject>, kept in
	// the stream DeadLetterStream. Defaulted when the YAML omits them
	// (Name+"_DEAD_LETTERS", "deadletter").
	DeadLetterStream string
	DeadLetterPrefix string

	Pos Pos
}

// Service is a publisher or consumer of events.
type Service struct {
	Name        string
	Description string
	Owner       string
	External    bool
	Pos         Pos
}

// Event is one event of the catalog.
type Event struct {
	Subject     string
	Version     int
	Publisher   string
	Consumers   []string // sorted
	SelfConsume bool     // the publisher consumes its own event on purpose
	GoName      string   // optional override of the payload type name
	Description string
	Schema      string // module-relative slash path of the payload schema
	SchemaURL   string // the schema file's path as written in the YAML
	Examples    []json.RawMessage
	Pos         Pos   // the event's entry in the YAML
	SchemaPos   Pos   // the schema: key's value
	ExamplesPos []Pos // one per example

	// Versions are the older versions of the event whose events may still
	// be in the stream ("versions:"), each with its own schema and
	// examples, sorted by version, every one below Version.
	Versions []EventVersion

	// PublishVersion is the version the publisher sends ("publish_version:",
	// a rollout pin): Version, or one of Versions. 0 when the YAML does not
	// pin one, which means Version.
	PublishVersion    int
	PublishVersionPos Pos
}

// EventVersion is an older version of an event: its schema and examples.
type EventVersion struct {
	Version     int
	Schema      string // module-relative slash path of the payload schema
	SchemaURL   string // as written in the YAML
	Examples    []json.RawMessage
	Pos         Pos // the version's entry in the YAML
	SchemaPos   Pos
	ExamplesPos []Pos
}

// SchemaFile is one JSON Schema file. Node keeps the document's key order
// and positions, so that generated fields follow the schema's order and
// errors point at the offending keyword. It is the tree yaml.v3 builds for
// JSON: a DocumentNode whose Content[0] is the root value; objects are !!map
// and arrays !!seq nodes (flow style), strings double-quoted !!str scalars,
// numbers !!int (no fraction or exponent) or !!float scalars keeping their
// text, then !!bool and !!null. Lines and columns are 1-based, columns
// counted in runes. (Load parses the JSON itself: yaml.v3 rejects some
// valid JSON, such as the "\/" escape or tab indentation.)
type SchemaFile struct {
	Path string // module-relative slash path
	Raw  []byte // the file's bytes, as written
	Node *yaml.Node
}
