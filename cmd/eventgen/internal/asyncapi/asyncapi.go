// Package asyncapi writes the catalog as an AsyncAPI 3.0.0 document, so
// that AsyncAPI tooling and EventCatalog can import it: one channel per
// subject, a send operation for each event's publisher and a receive
// operation for each consumer, one message per event whose payload is the
// envelope with the event's schema as its payload, and the payload schemas
// and the definitions they use under components.schemas.
//
// The catalog's schemas are JSON Schema 2020-12; the document holds them
// as AsyncAPI Schema Objects (a superset of draft-07): every $ref becomes
// a reference to a component schema, $defs, $schema and $id go, and a $ref
// next to other keywords is written as allOf, since a draft-07 $ref
// ignores its siblings. The keywords eventgen accepts mean the same in
// both drafts otherwise.
package asyncapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/sdk/spec"
)

// Header is the first line of the generated document; the catalog loader
// skips a YAML file that starts with it, so that the document may live in
// the catalog directory.
const Header = catalog.GeneratedHeader

// Options are the settings of the document that the catalog does not hold.
type Options struct {
	Title   string // info.title; default "GIIA events"
	Version string // info.version; default "1.0.0"
	Host    string // the NATS server's host and port; default "localhost:4222"
}

// Defaults of Options.
const (
	DefaultTitle   = "GIIA events"
	DefaultVersion = "1.0.0"
	DefaultHost    = "localhost:4222"
)

// serverName is the id of the one server of the document.
const serverName = "nats"

// Generate returns the AsyncAPI document of the catalog cat and its model
// m, in YAML. It fails when a $ref cannot be resolved, which the loader
// has already ruled out for a catalog it loaded.
func Generate(cat *catalog.Catalog, m *model.Model, opts Options) ([]byte, error) {
	if opts.Title == "" {
		opts.Title = DefaultTitle
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	g := &gen{cat: cat, m: m, opts: opts, conv: newConverter(cat, m)}
	doc, err := g.document()
	if err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	buf.WriteString(Header + "\n")
	for _, f := range cat.Files {
		fmt.Fprintf(&buf, "# source: %s\n", f)
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("asyncapi: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("asyncapi: %w", err)
	}
	return buf.Bytes(), nil
}

type gen struct {
	cat  *catalog.Catalog
	m    *model.Model
	opts Options
	conv *converter
}

// version is one version of an event, one message of its channel.
type version struct {
	number   int
	schema   string // module-relative path of the payload schema
	examples []json.RawMessage
	id       string // the message's id: the payload's Go name, "V<n>" added for an older version
	current  bool
}

// versions returns the versions of e the catalog keeps, the current one
// first, then the older ones, newest first.
func (g *gen) versions(e *model.Event) []version {
	vs := []version{{number: e.Version, schema: e.Schema.Path, id: e.Payload.Name, current: true}}
	ce, ok := g.cat.Event(e.Subject)
	if !ok {
		return vs
	}
	vs[0].examples = ce.Examples
	for i := len(ce.Versions) - 1; i >= 0; i-- {
		v := ce.Versions[i]
		vs = append(vs, version{number: v.Version, schema: v.Schema, examples: v.Examples, id: fmt.Sprintf("%sV%d", e.Payload.Name, v.Version)})
	}
	return vs
}

// sends returns the version e's publisher sends.
func (g *gen) sends(e *model.Event) int {
	if ce, ok := g.cat.Event(e.Subject); ok && ce.PublishVersion != 0 {
		return ce.PublishVersion
	}
	return e.Version
}

func (g *gen) document() (*yaml.Node, error) {
	channels := mapping()
	messages := mapping()
	for _, e := range g.m.Events {
		refs := mapping()
		for _, v := range g.versions(e) {
			set(refs, v.id, ref("#/components/messages/"+v.id))
			msg, err := g.message(e, v)
			if err != nil {
				return nil, err
			}
			set(messages, v.id, msg)
		}
		set(channels, e.Subject, mapping(
			"address", str(e.Subject),
			"title", str(e.Payload.Name),
			"description", text(e.Description),
			"messages", refs,
		))
	}
	schemas, err := g.conv.components()
	if err != nil {
		return nil, err
	}
	return mapping(
		"asyncapi", str("3.0.0"),
		"info", g.info(),
		"defaultContentType", str("application/json"),
		"servers", mapping(serverName, g.server()),
		"channels", channels,
		"operations", g.operations(),
		"components", mapping("messages", messages, "schemas", schemas),
	), nil
}

func (g *gen) info() *yaml.Node {
	tags := seq()
	for _, s := range g.m.Services {
		desc := s.Description
		if s.External {
			desc = strings.TrimSpace("(external) " + desc)
		}
		tags.Content = append(tags.Content, mapping("name", str(s.Name), "description", text(desc)))
	}
	description := "The events of the GIIA platform on NATS JetStream, generated by eventgen from the catalog (catalog/*.yaml) and its JSON Schemas (schemas/).\n\n" +
		"Every message is a JSON envelope (id, subject, correlation_id, organization_id, timestamp, source, version) whose payload is the event's payload; " +
		"its id is also the Nats-Msg-Id header, which de-duplicates retried publishes, and its version the Giia-Version header. " +
		"A channel has one message per version of the event whose events the stream may still hold: consumers read each with the schema of its version. " +
		"Each consuming service reads with one durable pull consumer, <service>-service, on the stream " + g.m.Stream.Name + ". " +
		"Operations are tagged with the service that performs them."
	return mapping(
		"title", str(g.opts.Title),
		"version", str(g.opts.Version),
		"description", str(description),
		"tags", tags,
	)
}

func (g *gen) server() *yaml.Node {
	s := g.m.Stream
	return mapping(
		"host", str(g.opts.Host),
		"protocol", str("nats"),
		"description", str(fmt.Sprintf("A NATS server with JetStream. Events are kept in the stream %s (subjects %s, de-duplication window %s, max age %s); dead letters in %s under %s.<service>.<subject>.",
			s.Name, strings.Join(s.Subjects, ", "), duration(s.Duplicates), duration(s.MaxAge), s.DeadLetterStream, s.DeadLetterPrefix)),
	)
}

// operations returns a send operation per event for its publisher and a
// receive operation per consumer, sorted by service, then subject.
func (g *gen) operations() *yaml.Node {
	ops := mapping()
	for _, s := range g.m.Services {
		for _, e := range s.Publishes {
			set(ops, s.Name+".send"+e.Payload.Name, g.operation(s, e, "send"))
		}
		for _, e := range s.Consumes {
			set(ops, s.Name+".receive"+e.Payload.Name, g.operation(s, e, "receive"))
		}
	}
	return ops
}

// operation is a send operation of the publisher, with the one version it
// sends, or a receive operation of a consumer, with every version it may
// read.
func (g *gen) operation(s *model.Service, e *model.Event, action string) *yaml.Node {
	channel := "#/channels/" + e.Subject
	summary := fmt.Sprintf("%s publishes %s.", s.Name, e.Subject)
	var jetstream *yaml.Node
	msgs := seq()
	for _, v := range g.versions(e) {
		if action == "receive" || v.number == g.sends(e) {
			msgs.Content = append(msgs.Content, ref(channel+"/messages/"+v.id))
		}
	}
	if action == "receive" {
		summary = fmt.Sprintf("%s consumes %s with its durable consumer %s.", s.Name, e.Subject, spec.ConsumerName(s.Name))
		jetstream = mapping("stream", str(g.m.Stream.Name), "durable", str(spec.ConsumerName(s.Name)))
	} else if g.sends(e) != e.Version {
		summary = fmt.Sprintf("%s publishes %s as version %d, pinned there during the rollout of version %d.", s.Name, e.Subject, g.sends(e), e.Version)
	}
	return mapping(
		"action", str(action),
		"channel", ref(channel),
		"summary", str(summary),
		"messages", msgs,
		"tags", seq(mapping("name", str(s.Name))),
		"x-jetstream", jetstream,
	)
}

// message is the message of version v of e: its headers, and the envelope
// with v's payload schema.
func (g *gen) message(e *model.Event, v version) (*yaml.Node, error) {
	payload, err := g.conv.payloadOf(e, v.schema, v.id)
	if err != nil {
		return nil, err
	}
	title := ""
	if root, ok := g.conv.res.Lookup(v.schema, ""); ok {
		if t := member(root, "title"); t != nil {
			title = t.Value
		}
	}
	summary := e.Description
	if !v.current {
		summary = fmt.Sprintf("Version %d of %s, an older version whose events the stream may still hold; consumers upcast it to version %d.", v.number, e.Subject, e.Version)
	}
	source := mapping(
		"description", str("The publishing service: the envelope's source."),
		"type", str("string"),
	)
	if e.Publisher != nil {
		set(source, "const", str(e.Publisher.Name))
	}
	return mapping(
		"name", str(v.id),
		"title", text(title),
		"summary", text(summary),
		"contentType", str("application/json"),
		"headers", mapping(
			"type", str("object"),
			"required", seq(str("Nats-Msg-Id"), str("Giia-Version")),
			"properties", mapping(
				"Nats-Msg-Id", mapping(
					"description", str("The envelope's id: JetStream stores a message once per id within the stream's de-duplication window."),
					"type", str("string"),
					"format", str("uuid"),
				),
				"Giia-Version", mapping(
					"description", str("The payload's schema version, the envelope's version, as a decimal string: consumers pick the schema by it."),
					"type", str("string"),
					"const", str(strconv.Itoa(v.number)),
				),
				"Giia-Source", source,
			),
		),
		"payload", g.envelope(e, v.number, payload),
		"correlationId", mapping(
			"description", str("Ties together every event caused by one request or one chain of reactions."),
			"location", str("$message.payload#/correlation_id"),
		),
		"examples", g.examples(e, v),
		"x-version", integer(v.number),
	), nil
}

// envelope returns the envelope schema with the event's subject, source
// and the version fixed and payload as its payload.
func (g *gen) envelope(e *model.Event, version int, payload *yaml.Node) *yaml.Node {
	env := g.conv.envelope()
	if t := member(env, "title"); t != nil {
		t.Value = "Envelope of " + e.Subject
	}
	props := member(env, "properties")
	fix := func(key string, v *yaml.Node) {
		if p := member(props, key); p != nil {
			set(p, "const", v)
		}
	}
	fix("subject", str(e.Subject))
	if e.Publisher != nil {
		fix("source", str(e.Publisher.Name))
	}
	fix("version", integer(version))
	for i := 0; i+1 < len(props.Content); i += 2 {
		if props.Content[i].Value == "payload" {
			props.Content[i+1] = payload
		}
	}
	return env
}

// exampleOrg is the organization of every example envelope.
var exampleOrg = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://giia.example/organizations/example"))

// examples wraps each example payload of version v of e in an envelope
// whose values are fixed placeholders, so that the document does not
// change between runs.
func (g *gen) examples(e *model.Event, v version) *yaml.Node {
	if len(v.examples) == 0 {
		return nil
	}
	out := seq()
	for i, raw := range v.examples {
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) == 0 {
			continue
		}
		name := fmt.Sprintf("https://giia.example/events/%s/examples/%d", e.Subject, i+1)
		if !v.current {
			name = fmt.Sprintf("https://giia.example/events/%s/versions/%d/examples/%d", e.Subject, v.number, i+1)
		}
		id := uuid.NewSHA1(uuid.NameSpaceURL, []byte(name))
		source := ""
		if e.Publisher != nil {
			source = e.Publisher.Name
		}
		headers := mapping("Nats-Msg-Id", str(id.String()), "Giia-Version", str(strconv.Itoa(v.number)))
		if source != "" {
			set(headers, "Giia-Source", str(source))
		}
		out.Content = append(out.Content, mapping(
			"name", str(fmt.Sprintf("%s-%d", v.id, i+1)),
			"summary", str(fmt.Sprintf("Example %d of the catalog; the envelope's values are placeholders.", i+1)),
			"headers", headers,
			"payload", mapping(
				"id", str(id.String()),
				"subject", str(e.Subject),
				"correlation_id", str(fmt.Sprintf("example-%s-%d", e.Subject, i+1)),
				"organization_id", str(exampleOrg.String()),
				"timestamp", str("2026-01-01T00:00:00Z"),
				"source", str(source),
				"version", integer(v.number),
				"payload", plain(&doc),
			),
		))
	}
	if len(out.Content) == 0 {
		return nil
	}
	return out
}

// duration prints d in its largest whole unit: "90s", "2m", "720h".
func duration(d time.Duration) string {
	switch {
	case d != 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d != 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// sortedMapping returns a mapping of m's entries sorted by key.
func sortedMapping(m map[string]*yaml.Node) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := mapping()
	for _, k := range keys {
		set(n, k, m[k])
	}
	return n
}
