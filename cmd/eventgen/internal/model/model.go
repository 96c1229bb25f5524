// Package model resolves a loaded catalog into what the emitters print:
// events, services and Go types, each already holding every Go name it
// needs. Names are computed here and nowhere else (with package naming),
// collisions are reported with both positions, and anything of a schema that
// has no faithful Go type is an error naming the file, the position and the
// JSON pointer.
//
// Type naming:
//
//   - an event's payload is CamelCase of the last two subject tokens
//     ("execution.purchase_order.created" gives PurchaseOrderCreated), or the
//     event's go_name;
//   - an object with properties, or a string enum, written inline gets its
//     parent's name plus CamelCase of the property (PurchaseOrderCreatedStatus);
//     the items of an array property get the singular of that
//     (naming.Singular: lines gives ...Line), the values of a map ...Value;
//   - a $ref target that needs a name (an object or an enum) gets CamelCase of
//     the last token of the reference's JSON pointer
//     ("../common/product.json#/$defs/product_ref" gives ProductRef) or, for a
//     whole file, of the file's base name ("../common/quantity.json" gives
//     Quantity), unless the file is an event's payload, whose name it keeps.
//     A target reached from many places is one type;
//   - a $ref to anything else (a string with a format, an array...) is
//     replaced by its Go type: "$defs/location_id" of type string, format
//     uuid, is uuid.UUID wherever it is used.
package model

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// Options are the generation settings that do not come from the catalog.
type Options struct {
	Package   string // the generated package's name, e.g. "events"
	SDKImport string // the import path of the module's sdk folder, e.g. "github.com/giia/events/sdk"
}

// Model is a catalog resolved into Go names and types.
type Model struct {
	Package   string
	SDKImport string
	Sources   []string // the catalog's YAML files, as shown to the user
	Stream    Stream
	Services  []*Service // sorted by name
	Events    []*Event   // sorted by subject
	Types     []*Type    // every named Go type, sorted by schema file, then position
	Schemas   []*Schema  // every schema file, sorted by path

	// Nodes is every schema reached from an event's payload schema, with
	// its constraints, sorted by file, then JSON pointer.
	Nodes []*SchemaNode
}

// Stream is the JetStream stream that carries every event.
type Stream struct {
	Name             string
	Subjects         []string
	Duplicates       time.Duration
	MaxAge           time.Duration
	Replicas         int
	DeadLetterStream string
	DeadLetterPrefix string
}

// Service is a service of the catalog and the Go names of its facades.
type Service struct {
	Name        string
	Description string
	Owner       string
	External    bool
	Pos         catalog.Pos

	Const        string // ServiceExecution
	Publisher    string // ExecutionPublisher
	NewPublisher string // NewExecutionPublisher
	Outbox       string // ExecutionOutbox
	NewOutbox    string // NewExecutionOutbox
	Handlers     string // ExecutionHandlers
	Consume      string // ConsumeExecution

	Publishes []*Event // sorted by subject
	Consumes  []*Event // sorted by subject
}

// Event is an event of the catalog and the Go names that carry it.
type Event struct {
	Subject     string
	Version     int
	Publisher   *Service
	Consumers   []*Service // sorted by name
	Description string
	Schema      *Schema
	Pos         catalog.Pos

	Const     string // SubjectExecutionPurchaseOrderCreated
	Payload   *Type  // the payload's Go type; Payload.Name is the event's Go name
	Parse     string // ParsePurchaseOrderCreated
	SchemaVar string // schemaPurchaseOrderCreated, the compiled schema

	Node *SchemaNode // the payload's schema, with its constraints

	// Versions is every version of the payload whose events may still be in
	// the stream, ascending: the older ones the catalog lists, then the
	// current one, whose names are the event's own (Payload, Parse,
	// SchemaVar, Node).
	Versions []*Version

	// Sends is the version the publisher facades send: the current one, or
	// the older one the catalog pins ("publish_version:"), which Downcast
	// makes from a value of the current one.
	Sends    *Version
	Downcast *Caster

	// Decode is the function that decodes a payload of any version into the
	// current type, decodeX, the bus.Decoder of the consumers' routes; ""
	// when the event has no consumer.
	Decode string
}

// Current returns the event's current version, the last of Versions.
func (e *Event) Current() *Version { return e.Versions[len(e.Versions)-1] }

// Version is one version of an event's payload and the Go names that carry
// it. The current version's names are the event's; an older one's are
// suffixed with its number: SalesOrderCreatedV1, ParseSalesOrderCreatedV1.
type Version struct {
	Event     *Event
	Number    int
	Schema    *Schema
	Pos       catalog.Pos // the version's entry in the YAML; the event's for the current one
	SchemaPos catalog.Pos

	Payload      *Type       // the payload's Go type
	Parse        string      // ParseSalesOrderCreatedV1
	ValidateJSON string      // validateSalesOrderCreatedV1JSON, the raw check
	DecodeJSON   string      // decodeSalesOrderCreatedV1JSON, the typed decoder of checked bytes
	SchemaVar    string      // schemaSalesOrderCreatedV1, the compiled schema
	Node         *SchemaNode // the payload's schema, with its constraints

	// Upcast turns a value of this version into one of the next; nil for
	// the current version.
	Upcast *Caster
}

// Current reports whether v is its event's current version.
func (v *Version) Current() bool { return v.Number == v.Event.Version }

// Caster is a function that turns a payload of one version of an event into
// one of another: an upcaster (to the next version) or a downcaster (from
// the current version to the one the catalog pins). The generator writes it
// when every payload of From's schema is valid under To's (the rules of
// eventgen check, package compat); otherwise the event's owner writes it,
// once, in File, a non-generated file of the generated package, and the
// generated code calls it.
type Caster struct {
	Name      string // upcastSalesOrderCreatedV1, downcastSalesOrderCreated
	From, To  *Version
	Generated bool

	// Why are the breaking changes from From's schema to To's that eventgen
	// check finds ("path:line: /pointer: what"), when the caster is not
	// generated.
	Why []string

	File string      // where the owner writes it: "upcasters.go" or "downcasters.go"
	Pos  catalog.Pos // what asks for it: the older version's entry, or publish_version
}

// Hand-written files: where the owners of events write the casters the
// generator cannot.
const (
	UpcastersFile   = "upcasters.go"
	DowncastersFile = "downcasters.go"
)

// Signature returns the caster's declaration as the owner writes it:
// func upcastSalesOrderCreatedV1(v SalesOrderCreatedV1) (SalesOrderCreated, error).
func (c *Caster) Signature() string {
	return fmt.Sprintf("func %s(v %s) (%s, error)", c.Name, c.From.Payload.Name, c.To.Payload.Name)
}

// Schema is one JSON Schema file.
type Schema struct {
	Path string // module-relative slash path
	Raw  []byte // the file's bytes, as written
}

// TypeKind says what a named type is declared as.
type TypeKind int

// The kinds of named types.
const (
	Struct  TypeKind = iota + 1 // type X struct{...}: Fields
	Enum                        // type X string, with a constant per value: Values
	Defined                     // type X U: Underlying
)

// Type is a named Go type declared by the generated package.
type Type struct {
	Name    string
	Kind    TypeKind
	Doc     []string    // the schema's description, one entry per line
	File    string      // the schema file that defines it
	Pointer string      // the JSON pointer of its schema in File
	Pos     catalog.Pos // the position of its schema
	Event   *Event      // the event whose payload it is, if any (its current version)
	Version *Version    // the version of an event whose payload it is, if any

	Fields     []*Field     // Struct: in schema order
	Values     []*EnumValue // Enum: in schema order
	Underlying *GoType      // Defined

	// Node is the schema the type was made from, with its constraints; for
	// a Defined payload type, the payload's schema.
	Node *SchemaNode
}

// Field is a field of a struct type.
type Field struct {
	Name     string // Go name
	JSONName string // the property's name in the schema
	Type     *GoType
	Required bool // listed in required: no omitempty
	Doc      []string
	Pos      catalog.Pos
	Node     *SchemaNode // the property's schema, with its constraints
}

// EnumValue is one value of an enum and the name of its constant.
type EnumValue struct {
	Name  string // ZoneRed
	Value string // red
}

// Kind is the shape of a Go type expression.
type Kind int

// The kinds of Go type expressions.
const (
	Named   Kind = iota + 1 // a type declared by the generated package: GoType.Named
	Pointer                 // *Elem
	Slice                   // []Elem
	Map                     // map[string]Elem
	String
	Int64
	Float64
	Bool
	Any  // any: a schema that accepts any JSON value
	Time // time.Time: format date-time
	UUID // uuid.UUID: format uuid
	Date // payload.Date: format date
)

// GoType is a Go type expression.
type GoType struct {
	Kind  Kind
	Elem  *GoType // Pointer, Slice, Map
	Named *Type   // Named
}

// String returns the Go spelling of t, with package qualifiers.
func (t *GoType) String() string {
	switch t.Kind {
	case Named:
		return t.Named.Name
	case Pointer:
		return "*" + t.Elem.String()
	case Slice:
		return "[]" + t.Elem.String()
	case Map:
		return "map[string]" + t.Elem.String()
	case String:
		return "string"
	case Int64:
		return "int64"
	case Float64:
		return "float64"
	case Bool:
		return "bool"
	case Any:
		return "any"
	case Time:
		return "time.Time"
	case UUID:
		return "uuid.UUID"
	case Date:
		return "payload.Date"
	}
	return fmt.Sprintf("GoType(%d)", t.Kind)
}

// Nilable reports whether the zero value of t is nil, so that an optional
// field of type t needs no pointer to be omitted.
func (t *GoType) Nilable() bool {
	switch t.Kind {
	case Pointer, Slice, Map, Any:
		return true
	}
	return false
}

// Error is a problem that stops generation: where, and what.
type Error struct {
	Pos     catalog.Pos
	Pointer string // the JSON pointer into Pos.File, when it is a schema
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" {
		b.WriteString(posString(e.Pos))
		b.WriteString(": ")
	}
	if e.Pointer != "" {
		b.WriteString(e.Pointer)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

func posString(p catalog.Pos) string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Errors is every problem found, sorted by position. Build returns it as
// its error.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if c := strings.Compare(a.Pos.File, b.Pos.File); c != 0 {
			return c
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
}
