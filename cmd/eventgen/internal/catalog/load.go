package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Keys allowed in each mapping of a catalog file, sorted.
var (
	topKeys        = []string{"events", "services", "stream"}
	streamKeys     = []string{"dead_letter", "duplicates", "max_age", "name", "replicas", "subjects"}
	deadLetterKeys = []string{"prefix", "stream"}
	serviceKeys    = []string{"description", "external", "owner"}
	eventKeys      = []string{"consumers", "description", "examples", "go_name", "publish_version", "publisher", "schema", "self_consume", "subject", "version", "versions"}
	versionKeys    = []string{"examples", "schema", "version"}
)

// AllowListFile is the allow-list of deliberate breaking changes that
// "eventgen check" reads from the catalog directory (package compat); it is
// not a catalog file, and Load skips it.
const AllowListFile = "compat-allow.yaml"

const (
	defaultDeadLetterSuffix = "_DEAD_LETTERS"
	defaultDeadLetterPrefix = "deadletter"
	maxReplicas             = 5 // JetStream's limit
	maxVersion              = int(^uint32(0) >> 1)
)

// Load reads every *.yaml (and *.yml) file of the catalog directory dir
// but AllowListFile, merges them, loads every JSON Schema they name
// (following relative $refs), compiles each event's schema and validates
// each example.
//
// root is the module root, an absolute path; dir is absolute or relative to
// root. Paths in the result and in diagnostics are relative to root, with
// forward slashes.
//
// When anything is wrong Load returns a nil Catalog and Diagnostics holding
// every problem found, sorted by position; a missing directory is one of
// them, at the directory's path.
func Load(root, dir string) (*Catalog, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("catalog: module root: %w", err)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	l := &loader{
		root:    root,
		dir:     filepath.Clean(dir),
		schemas: map[string]*schemaState{},
	}
	cat := l.load()
	if len(l.diags) > 0 {
		l.diags.Sort()
		return nil, slices.Compact(l.diags)
	}
	return cat, nil
}

// loader holds the state of one Load call.
type loader struct {
	root, dir string // absolute
	diags     Diagnostics

	stream     *Stream
	streamAt   *Pos // the first "stream:" key
	servicesAt *Pos // the first "services:" key
	services   []Service
	events     []*eventDef
	schemas    map[string]*schemaState // by absolute path
}

// eventDef is an event as read, with what the checks after reading need.
type eventDef struct {
	Event
	file         string // the YAML file, absolute
	subjectPos   Pos
	subjectOK    bool // a valid, concrete subject
	publisherPos Pos
	consumerPos  []Pos // parallel to Consumers, in the order written
	selfPos      Pos   // the self_consume value
	schemaOK     bool  // the schema: value is a string
	exampleOK    []bool
	versions     []*versionDef // the "versions:" entries, in the order written
}

// versionDef is an entry of an event's "versions:" as read.
type versionDef struct {
	EventVersion
	versionOK bool // a valid version number
	schemaOK  bool // the schema: value is a string
	exampleOK []bool
}

func (l *loader) errorf(pos Pos, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// show returns the path shown to the user: relative to the module root,
// with forward slashes, when the path lies inside it.
func (l *loader) show(abs string) string {
	if rel, ok := l.rel(abs); ok {
		return rel
	}
	return filepath.ToSlash(abs)
}

// rel returns the module-relative slash path of abs, and whether abs lies
// inside the module.
func (l *loader) rel(abs string) (string, bool) {
	rel, err := filepath.Rel(l.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func (l *loader) pos(file string, n *yaml.Node) Pos {
	p := Pos{File: l.show(file)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	return p
}

func (l *loader) load() *Catalog {
	showDir := l.show(l.dir)
	info, err := os.Stat(l.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.errorf(Pos{File: showDir}, "catalog directory does not exist")
		return nil
	case err != nil:
		l.errorf(Pos{File: showDir}, "cannot read catalog directory: %v", err)
		return nil
	case !info.IsDir():
		l.errorf(Pos{File: showDir}, "catalog path is not a directory")
		return nil
	}
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		l.errorf(Pos{File: showDir}, "cannot read catalog directory: %v", err)
		return nil
	}
	var files []string
	for _, e := range entries {
		if name := e.Name(); !e.IsDir() && name != AllowListFile && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) &&
			!IsGeneratedFile(filepath.Join(l.dir, name)) {
			files = append(files, filepath.Join(l.dir, name))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		l.errorf(Pos{File: showDir}, "no catalog files (*.yaml) in the catalog directory")
		return nil
	}
	for _, f := range files {
		l.readFile(f)
	}
	if l.streamAt == nil {
		l.errorf(Pos{File: showDir}, `no stream is defined (want a "stream:" section in one of the catalog files)`)
	}
	l.checkEvents()
	l.checkSchemas()

	cat := &Catalog{
		Dir:     showDir,
		Schemas: map[string]*SchemaFile{},
	}
	for _, f := range files {
		cat.Files = append(cat.Files, l.show(f))
	}
	if l.stream != nil {
		cat.Stream = *l.stream
	}
	cat.Services = slices.Clone(l.services)
	slices.SortFunc(cat.Services, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	for _, e := range l.events {
		ev := e.Event
		ev.Versions = nil
		for _, v := range e.versions {
			ev.Versions = append(ev.Versions, v.EventVersion)
		}
		ev.Consumers = slices.Clone(ev.Consumers)
		sort.Strings(ev.Consumers)
		cat.Events = append(cat.Events, ev)
	}
	slices.SortFunc(cat.Events, func(a, b Event) int { return strings.Compare(a.Subject, b.Subject) })
	for _, s := range l.schemas {
		if s.file != nil {
			cat.Schemas[s.file.Path] = s.file
		}
	}
	return cat
}

// yamlLineRE finds the line number in a yaml.v3 error message.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// readFile parses one catalog file and reads its sections.
func (l *loader) readFile(file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		l.errorf(Pos{File: l.show(file)}, "cannot read catalog file: %v", err)
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // an empty file
		}
		l.yamlError(file, err)
		return
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		l.errorf(l.pos(file, &next), "a catalog file holds one YAML document (found another)")
	case !errors.Is(err, io.EOF):
		l.yamlError(file, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return
	}
	top := l.fields(file, doc.Content[0], "at the top level", "a catalog file", topKeys)
	if top == nil {
		return
	}
	if f, ok := top["stream"]; ok {
		if l.streamAt != nil {
			l.errorf(l.pos(file, f.Key), "stream is already defined at %s", l.streamAt)
		} else {
			at := l.pos(file, f.Key)
			l.streamAt = &at
			l.readStream(file, f.Value)
		}
	}
	if f, ok := top["services"]; ok {
		if l.servicesAt != nil {
			l.errorf(l.pos(file, f.Key), "services are already defined at %s", l.servicesAt)
		} else {
			at := l.pos(file, f.Key)
			l.servicesAt = &at
			l.readServices(file, f.Value)
		}
	}
	if f, ok := top["events"]; ok {
		l.readEvents(file, f.Value)
	}
}

func (l *loader) yamlError(file string, err error) {
	msg := err.Error()
	pos := Pos{File: l.show(file)}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.errorf(pos, "invalid YAML: %s", msg)
}

// fields checks that n is a mapping whose keys are among allowed, each
// once, and returns them. where completes "unknown key ... <where>"; what
// names the mapping in "<what> must be a mapping". It returns nil when n
// is not a mapping.
func (l *loader) fields(file string, n *yaml.Node, where, what string, allowed []string) fields {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		l.errorf(l.pos(file, n), "%s must be a mapping (%s)", what, found(n))
		return nil
	}
	fs := fields{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errorf(l.pos(file, k), "keys %s must be plain names (%s)", where, found(k))
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			l.errorf(l.pos(file, k), "unknown key %s %s (want one of %s)", quote(k.Value), where, quoteList(allowed))
			continue
		}
		if first, dup := fs[k.Value]; dup {
			l.errorf(l.pos(file, k), "duplicate key %s %s (first defined at %s)", quote(k.Value), where, l.pos(file, first.Key))
			continue
		}
		fs[k.Value] = field{Key: k, Value: v}
	}
	return fs
}

// str reads a non-empty string value. It reports a wrong type and returns
// false.
func (l *loader) str(file string, f field, name string) (string, bool) {
	v := deref(f.Value)
	if !isString(v) {
		l.errorf(l.pos(file, v), "%s must be a string (%s)", quote(name), found(v))
		return "", false
	}
	if strings.TrimSpace(v.Value) == "" {
		l.errorf(l.pos(file, v), "%s must not be empty", quote(name))
		return "", false
	}
	return v.Value, true
}

// integer reads an integer value within [lo, hi]; want describes the range
// in messages ("an integer >= 1").
func (l *loader) integer(file string, f field, name string, lo, hi int, want string) (int, bool) {
	v := deref(f.Value)
	var i int
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&i) != nil || i < lo || i > hi {
		l.errorf(l.pos(file, v), "%s must be %s (%s)", quote(name), want, found(v))
		return 0, false
	}
	return i, true
}

func (l *loader) boolean(file string, f field, name string) (bool, bool) {
	v := deref(f.Value)
	var b bool
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		l.errorf(l.pos(file, v), "%s must be true or false (%s)", quote(name), found(v))
		return false, false
	}
	return b, true
}

func (l *loader) duration(file string, f field, name string) (time.Duration, bool) {
	v := deref(f.Value)
	if v.Kind == yaml.ScalarNode && !isNull(v) {
		d, err := time.ParseDuration(v.Value)
		if err == nil && d >= 0 {
			return d, true
		}
	}
	l.errorf(l.pos(file, v), `%s must be a duration such as "2m" or "720h" (%s)`, quote(name), found(v))
	return 0, false
}

// strList reads a list of strings, returning each with its position.
func (l *loader) strList(file string, f field, name, want string) ([]string, []Pos, bool) {
	v := deref(f.Value)
	if v.Kind != yaml.SequenceNode {
		l.errorf(l.pos(file, v), "%s must be a list of %s (%s)", quote(name), want, found(v))
		return nil, nil, false
	}
	ok := true
	var values []string
	var positions []Pos
	for _, item := range v.Content {
		item = deref(item)
		if !isString(item) || item.Value == "" {
			l.errorf(l.pos(file, item), "%s must be a list of %s (%s)", quote(name), want, found(item))
			ok = false
			continue
		}
		values = append(values, item.Value)
		positions = append(positions, l.pos(file, item))
	}
	return values, positions, ok
}

func (l *loader) readStream(file string, n *yaml.Node) {
	fs := l.fields(file, n, "in stream", "stream", streamKeys)
	if fs == nil {
		return
	}
	st := &Stream{Pos: l.pos(file, deref(n)), Replicas: 1}
	l.stream = st
	for _, name := range []string{"name", "subjects"} {
		if !fs.has(name) {
			l.errorf(st.Pos, "stream is missing required key %s", quote(name))
		}
	}
	if f, ok := fs["name"]; ok {
		if name, ok := l.str(file, f, "name"); ok {
			if streamNameRE.MatchString(name) {
				st.Name = name
			} else {
				l.errorf(l.pos(file, f.Value), `stream name %s is not valid (want letters, digits, "_" or "-")`, quote(name))
			}
		}
	}
	var subjectPos []Pos
	if f, ok := fs["subjects"]; ok {
		subjects, positions, _ := l.strList(file, f, "subjects", "subject filters")
		if len(subjects) == 0 && deref(f.Value).Kind == yaml.SequenceNode && len(deref(f.Value).Content) == 0 {
			l.errorf(l.pos(file, f.Value), `"subjects" must list at least one subject filter`)
		}
		seen := map[string]Pos{}
		for i, s := range subjects {
			switch first, dup := seen[s]; {
			case !validStreamSubject(s):
				l.errorf(positions[i], `stream subject %s is not a valid NATS subject filter (want dot-separated tokens, "*" for one token, ">" as the last)`, quote(s))
			case dup:
				l.errorf(positions[i], "duplicate stream subject %s (first at %s)", quote(s), first)
			default:
				seen[s] = positions[i]
				st.Subjects = append(st.Subjects, s)
				subjectPos = append(subjectPos, positions[i])
			}
		}
	}
	if f, ok := fs["duplicates"]; ok {
		st.Duplicates, _ = l.duration(file, f, "duplicates")
	}
	if f, ok := fs["max_age"]; ok {
		st.MaxAge, _ = l.duration(file, f, "max_age")
	}
	if f, ok := fs["replicas"]; ok {
		if r, ok := l.integer(file, f, "replicas", 1, maxReplicas, fmt.Sprintf("an integer from 1 to %d", maxReplicas)); ok {
			st.Replicas = r
		}
	}
	if f, ok := fs["dead_letter"]; ok && !isNull(f.Value) {
		if dl := l.fields(file, f.Value, "in dead_letter", `"dead_letter"`, deadLetterKeys); dl != nil {
			if f, ok := dl["stream"]; ok {
				if name, ok := l.str(file, f, "stream"); ok {
					switch {
					case !streamNameRE.MatchString(name):
						l.errorf(l.pos(file, f.Value), `dead-letter stream name %s is not valid (want letters, digits, "_" or "-")`, quote(name))
					case name == st.Name:
						l.errorf(l.pos(file, f.Value), "dead-letter stream %s must differ from the stream %s", quote(name), quote(st.Name))
					default:
						st.DeadLetterStream = name
					}
				}
			}
			if f, ok := dl["prefix"]; ok {
				if prefix, ok := l.str(file, f, "prefix"); ok {
					if validPrefix(prefix) {
						st.DeadLetterPrefix = prefix
					} else {
						l.errorf(l.pos(file, f.Value), `dead-letter prefix %s is not valid (want lower-case dot-separated tokens such as "deadletter")`, quote(prefix))
					}
				}
			}
		}
	}
	if st.DeadLetterStream == "" && st.Name != "" {
		st.DeadLetterStream = st.Name + defaultDeadLetterSuffix
	}
	if st.DeadLetterPrefix == "" {
		st.DeadLetterPrefix = defaultDeadLetterPrefix
	}
	dead := st.DeadLetterPrefix + ".>"
	for i, s := range st.Subjects {
		if subjectsOverlap(s, dead) {
			l.errorf(subjectPos[i], "stream subject %s overlaps the dead-letter subjects %s (set dead_letter.prefix to another token)", quote(s), quote(dead))
		}
	}
}

func validPrefix(s string) bool {
	for _, t := range strings.Split(s, ".") {
		if !tokenRE.MatchString(t) {
			return false
		}
	}
	return true
}

func (l *loader) readServices(file string, n *yaml.Node) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(l.pos(file, n), `"services" must be a mapping of service names to {description, owner, external} (%s)`, found(n))
		return
	}
	seen := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		kp := l.pos(file, k)
		if k.Kind != yaml.ScalarNode || !serviceRE.MatchString(k.Value) {
			l.errorf(kp, `service name %s is not valid (want lower-case letters, digits, "_" or "-", starting with a letter)`, quote(k.Value))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.errorf(kp, "duplicate service %s (first defined at %s)", quote(k.Value), first)
			continue
		}
		seen[k.Value] = kp
		svc := Service{Name: k.Value, Pos: kp}
		if !isNull(v) {
			fs := l.fields(file, v, "in service "+quote(k.Value), "service "+quote(k.Value), serviceKeys)
			if f, ok := fs["description"]; ok {
				svc.Description, _ = l.str(file, f, "description")
			}
			if f, ok := fs["owner"]; ok {
				svc.Owner, _ = l.str(file, f, "owner")
			}
			if f, ok := fs["external"]; ok {
				svc.External, _ = l.boolean(file, f, "external")
			}
		}
		l.services = append(l.services, svc)
	}
}

func (l *loader) readEvents(file string, n *yaml.Node) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(l.pos(file, n), `"events" must be a list of events (%s)`, found(n))
		return
	}
	for _, item := range n.Content {
		l.readEvent(file, item)
	}
}

func (l *loader) readEvent(file string, n *yaml.Node) {
	n = deref(n)
	fs := l.fields(file, n, "in event", "an event", eventKeys)
	if fs == nil {
		return
	}
	e := &eventDef{file: file}
	e.Pos = l.pos(file, n)
	what := "event"
	if f, ok := fs["subject"]; ok {
		if s, ok := l.str(file, f, "subject"); ok {
			e.Subject = s
			e.subjectPos = l.pos(file, f.Value)
			what = "event " + quote(s)
			if msg := checkSubject(s); msg != "" {
				l.errorf(e.subjectPos, "subject %s", msg)
			} else {
				e.subjectOK = true
			}
		}
	}
	for _, name := range []string{"subject", "version", "publisher", "schema", "description"} {
		if !fs.has(name) {
			l.errorf(e.Pos, "%s is missing required key %s", what, quote(name))
		}
	}
	if f, ok := fs["version"]; ok {
		e.Version, _ = l.integer(file, f, "version", 1, maxVersion, "an integer >= 1")
	}
	if f, ok := fs["publisher"]; ok {
		e.Publisher, _ = l.str(file, f, "publisher")
		e.publisherPos = l.pos(file, f.Value)
	}
	if f, ok := fs["consumers"]; ok && !isNull(f.Value) {
		e.Consumers, e.consumerPos, _ = l.strList(file, f, "consumers", "service names")
	}
	if f, ok := fs["self_consume"]; ok {
		e.SelfConsume, _ = l.boolean(file, f, "self_consume")
		e.selfPos = l.pos(file, f.Value)
	}
	if f, ok := fs["go_name"]; ok {
		if name, ok := l.str(file, f, "go_name"); ok {
			if goNameRE.MatchString(name) {
				e.GoName = name
			} else {
				l.errorf(l.pos(file, f.Value), "go_name %s is not an exported Go identifier (want a name such as \"PurchaseOrderCreated\")", quote(name))
			}
		}
	}
	if f, ok := fs["description"]; ok {
		e.Description, _ = l.str(file, f, "description")
	}
	if f, ok := fs["schema"]; ok {
		e.SchemaPos = l.pos(file, deref(f.Value))
		e.SchemaURL, e.schemaOK = l.str(file, f, "schema")
	}
	if f, ok := fs["publish_version"]; ok {
		e.PublishVersionPos = l.pos(file, deref(f.Value))
		e.PublishVersion, _ = l.integer(file, f, "publish_version", 1, maxVersion, "an integer >= 1")
	}
	if f, ok := fs["versions"]; ok && !isNull(f.Value) {
		e.versions = l.readVersions(file, f, what, e.Subject)
	}
	examples, ok := fs["examples"]
	e.Examples, e.ExamplesPos, e.exampleOK = l.readExamples(file, examples, ok, e.Pos, what, e.Subject, "")
	l.events = append(l.events, e)
}

// readExamples reads the "examples" list of an event, or of one of its
// versions (label " version N", for messages). at is where a missing list
// is reported.
func (l *loader) readExamples(file string, f field, ok bool, at Pos, what, subject, label string) ([]json.RawMessage, []Pos, []bool) {
	var raws []json.RawMessage
	var positions []Pos
	var oks []bool
	switch {
	case !ok || isNull(f.Value) || deref(f.Value).Kind == yaml.SequenceNode && len(deref(f.Value).Content) == 0:
		if ok {
			at = l.pos(file, f.Key)
		}
		l.errorf(at, "%s%s has no examples (want at least one example payload under \"examples\")", what, label)
	case deref(f.Value).Kind != yaml.SequenceNode:
		l.errorf(l.pos(file, deref(f.Value)), `"examples" must be a list of example payloads (%s)`, found(f.Value))
	default:
		for i, item := range deref(f.Value).Content {
			item = deref(item)
			raw, err := exampleJSON(item)
			positions = append(positions, l.pos(file, item))
			if err != nil {
				var ee *exampleError
				at := l.pos(file, item)
				if errors.As(err, &ee) {
					at = l.pos(file, ee.node)
				}
				l.errorf(at, "example %d of %s%s cannot be written as JSON: %v", i+1, quote(subject), label, err)
				raws = append(raws, nil)
				oks = append(oks, false)
				continue
			}
			raws = append(raws, raw)
			oks = append(oks, true)
		}
	}
	return raws, positions, oks
}

// readVersions reads an event's "versions:": a list of {version, schema,
// examples}, the older versions whose events may still be in the stream.
func (l *loader) readVersions(file string, f field, what, subject string) []*versionDef {
	list := deref(f.Value)
	if list.Kind != yaml.SequenceNode {
		l.errorf(l.pos(file, list), `"versions" must be a list of older versions {version, schema, examples} (%s)`, found(list))
		return nil
	}
	var out []*versionDef
	for _, item := range list.Content {
		item = deref(item)
		fs := l.fields(file, item, "in a version of "+what, "a version of "+what, versionKeys)
		if fs == nil {
			continue
		}
		v := &versionDef{}
		v.Pos = l.pos(file, item)
		label := ""
		for _, name := range versionKeys {
			if !fs.has(name) && name != "examples" {
				l.errorf(v.Pos, "a version of %s is missing required key %s", what, quote(name))
			}
		}
		if f, ok := fs["version"]; ok {
			v.Version, v.versionOK = l.integer(file, f, "version", 1, maxVersion, "an integer >= 1")
			if v.versionOK {
				label = fmt.Sprintf(" version %d", v.Version)
			}
		}
		if f, ok := fs["schema"]; ok {
			v.SchemaPos = l.pos(file, deref(f.Value))
			v.SchemaURL, v.schemaOK = l.str(file, f, "schema")
		}
		examples, ok := fs["examples"]
		v.Examples, v.ExamplesPos, v.exampleOK = l.readExamples(file, examples, ok, v.Pos, what, subject, label)
		out = append(out, v)
	}
	return out
}

// checkVersions checks the older versions of an event and its
// publish_version: each version below the event's, listed once, and a
// pin that names a known version. It keeps the valid versions in
// e.versions, sorted.
func (l *loader) checkVersions(e *eventDef) {
	what := "event"
	if e.Subject != "" {
		what = "event " + quote(e.Subject)
	}
	seen := map[int]Pos{}
	var valid []*versionDef
	for _, v := range e.versions {
		if !v.versionOK {
			continue
		}
		if first, dup := seen[v.Version]; dup {
			l.errorf(v.Pos, "duplicate version %d of %s (first listed at %s)", v.Version, what, first)
			continue
		}
		seen[v.Version] = v.Pos
		if e.Version > 0 && v.Version >= e.Version {
			l.errorf(v.Pos, "version %d of %s is not below its version %d (list only older versions under \"versions\"; the current one is \"version\" and \"schema\")", v.Version, what, e.Version)
			continue
		}
		valid = append(valid, v)
	}
	slices.SortFunc(valid, func(a, b *versionDef) int { return a.Version - b.Version })
	e.versions = valid
	if p := e.PublishVersion; p > 0 && e.Version > 0 && p != e.Version {
		if _, ok := seen[p]; !ok || p > e.Version {
			var known []string
			for _, v := range valid {
				known = append(known, strconv.Itoa(v.Version))
			}
			known = append(known, strconv.Itoa(e.Version))
			l.errorf(e.PublishVersionPos, "publish_version %d of %s is not a version of the event (want %s: \"version\", or one listed under \"versions\")", p, what, strings.Join(known, ", "))
		}
	}
}

// checkEvents checks what spans events, services and the stream: unique
// subjects covered by the stream, declared publishers and consumers.
func (l *loader) checkEvents() {
	services := make([]string, 0, len(l.services))
	for _, s := range l.services {
		services = append(services, s.Name)
	}
	sort.Strings(services)
	want := "no services are declared"
	if len(services) > 0 {
		want = "want one of " + quoteList(services)
	}
	declared := func(name string) bool { return slices.Contains(services, name) }

	first := map[string]Pos{}
	for _, e := range l.events {
		l.checkVersions(e)
		if e.subjectOK {
			if at, dup := first[e.Subject]; dup {
				l.errorf(e.subjectPos, "duplicate subject %s (first defined at %s)", quote(e.Subject), at)
			} else {
				first[e.Subject] = e.subjectPos
			}
			if l.stream != nil && len(l.stream.Subjects) > 0 && !slices.ContainsFunc(l.stream.Subjects, func(p string) bool { return subjectMatches(p, e.Subject) }) {
				name := l.stream.Name
				if name == "" {
					name = "?"
				}
				l.errorf(e.subjectPos, "subject %s is outside the stream %s (subjects %s)", quote(e.Subject), quote(name), quoteList(l.stream.Subjects))
			}
		}
		if e.Publisher != "" && !declared(e.Publisher) {
			l.errorf(e.publisherPos, "publisher %s is not a declared service (%s)", quote(e.Publisher), want)
		}
		seen := map[string]Pos{}
		for i, c := range e.Consumers {
			at := e.consumerPos[i]
			if firstAt, dup := seen[c]; dup {
				l.errorf(at, "duplicate consumer %s (first listed at %s)", quote(c), firstAt)
				continue
			}
			seen[c] = at
			switch {
			case !declared(c):
				l.errorf(at, "consumer %s is not a declared service (%s)", quote(c), want)
			case c == e.Publisher && !e.SelfConsume:
				l.errorf(at, "publisher %s consumes its own event %s (set \"self_consume: true\" if it should)", quote(c), quote(e.Subject))
			}
		}
		if e.SelfConsume && e.Publisher != "" && !slices.Contains(e.Consumers, e.Publisher) {
			l.errorf(e.selfPos, "self_consume is true but the publisher %s is not among the consumers", quote(e.Publisher))
		}
	}
	// Keep consumer lists free of repeats for the catalog.
	for _, e := range l.events {
		var uniq []string
		for _, c := range e.Consumers {
			if !slices.Contains(uniq, c) {
				uniq = append(uniq, c)
			}
		}
		e.Consumers = uniq
	}
}

// exampleError is a YAML value of an example that has no JSON form.
type exampleError struct {
	node *yaml.Node
	msg  string
}

func (e *exampleError) Error() string { return e.msg }

// jsonNumberRE is the JSON number grammar.
var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// exampleJSON writes a YAML example as JSON, keeping the key order.
func exampleJSON(n *yaml.Node) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, n, 0); err != nil {
		return nil, err
	}
	return json.RawMessage(b.Bytes()), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node, depth int) error {
	n = deref(n)
	if depth > 1000 {
		return &exampleError{n, "nested too deeply"}
	}
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				return &exampleError{k, "keys must be strings (" + found(k) + ")"}
			}
			if k.Value == "<<" && k.ShortTag() == "!!merge" {
				return &exampleError{k, `merge keys ("<<") are not supported`}
			}
			if first, dup := seen[k.Value]; dup {
				return &exampleError{k, fmt.Sprintf("duplicate key %s (first at line %d)", quote(k.Value), first.Line)}
			}
			seen[k.Value] = k
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k.Value)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		return writeJSONScalar(b, n)
	default:
		return &exampleError{n, "unsupported YAML node"}
	}
	return nil
}

func writeJSONScalar(b *bytes.Buffer, n *yaml.Node) error {
	switch tag := n.ShortTag(); tag {
	case "!!str", "!!timestamp":
		writeJSONString(b, n.Value)
	case "!!null":
		b.WriteString("null")
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return &exampleError{n, err.Error()}
		}
		b.WriteString(strconv.FormatBool(v))
	case "!!int", "!!float":
		if jsonNumberRE.MatchString(n.Value) {
			b.WriteString(n.Value)
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return &exampleError{n, err.Error()}
		}
		out, err := json.Marshal(v)
		if err != nil {
			return &exampleError{n, fmt.Sprintf("%s is not a JSON number", quote(n.Value))}
		}
		b.Write(out)
	default:
		return &exampleError{n, fmt.Sprintf("value %s tagged %s has no JSON form", quote(n.Value), tag)}
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode adds a newline
}
