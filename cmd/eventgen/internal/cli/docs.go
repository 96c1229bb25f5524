package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/giia/events/cmd/eventgen/internal/asyncapi"
	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/docs"
	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/cmd/eventgen/internal/natsconf"
	"github.com/giia/events/sdk/spec"
)

// This file holds the commands that describe the catalog for people and
// other tools: docs (EVENTS.md), asyncapi (an AsyncAPI 3.0.0 document) and
// nats (the NATS CLI's stream and consumer configuration).

const docsHelp = `usage: eventgen docs [--catalog DIR] [--out FILE] [--check]

Docs writes the catalog's reference documentation in Markdown: the table of
events, a Mermaid flowchart of the services and the events between them,
the services, the stream, then per event its fields (type, Go type,
required, constraints, description) and its first example.

Without flags it reads catalog/ and writes catalog/EVENTS.md of the module
that holds the current folder, so "go generate" needs no flags. Flags given
are relative to the current folder. It does not overwrite a file that it
did not generate.

With --check it writes nothing, and exits 1 naming the file when it is
stale or missing.

Flags:
`

const asyncapiHelp = `usage: eventgen asyncapi [--catalog DIR] [--out FILE] [--check] [--server HOST:PORT] [--version V]

Asyncapi writes the catalog as an AsyncAPI 3.0.0 document in YAML, for
AsyncAPI tooling and EventCatalog: a server, a channel per subject, a send
operation for each event's publisher and a receive operation for each of its
consumers, a message per event (the envelope, with the event's payload
schema as its payload, and the catalog's examples), and the schemas the
payloads use under components.schemas.

Without flags it reads catalog/ and writes catalog/asyncapi.yaml of the
module that holds the current folder, so "go generate" needs no flags.
Flags given are relative to the current folder. It does not overwrite a
file that it did not generate.

With --check it writes nothing, and exits 1 naming the file when it is
stale or missing.

Flags:
`

const natsHelp = `usage: eventgen nats --out DIR [--catalog DIR] [--max-deliver N] [--ack-wait DURATION] [--nats-2.9]

Nats writes the JetStream configuration of the catalog as the JSON files
the NATS CLI reads, for operators who provision a server by hand:

	stream.json               the events stream
	stream-dead-letters.json  the dead-letter stream
	consumer-SERVICE.json     the durable consumer of each consuming service

They are exactly what the services create themselves (sdk/bus
EnsureTopology) with the same consumer options; consumers filter on several
subjects, which needs NATS 2.10 or later. With --nats-2.9 each service gets
one durable per consumed subject instead (consumer-DURABLE.json), as the
services make them on a NATS 2.9 server. It prints the NATS CLI commands
that apply them:

	nats stream add --config DIR/stream.json
	nats consumer add STREAM --config DIR/consumer-SERVICE.json

--out is required; the folder is created if needed and the files in it
replaced. It reads catalog/ of the module that holds the current folder; a
--catalog given is relative to the current folder.

Flags:
`

// runDocs is "eventgen docs".
func runDocs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("docs", flag.ContinueOnError)
	catalogDir := fs.String("catalog", "", "the catalog `DIR` (default: catalog/ at the module root)")
	out := fs.String("out", "", "the output `FILE` (default: catalog/EVENTS.md at the module root)")
	check := fs.Bool("check", false, "write nothing; exit 1 when the file is stale or missing")
	if code := parseFlags(fs, docsHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "docs", "unexpected argument %q", fs.Arg(0))
	}
	env, code := loadForDocs("docs", *catalogDir, stderr)
	if code >= 0 {
		return code
	}
	file := env.file(*out, "catalog/EVENTS.md")
	root, err := filepath.Rel(filepath.Dir(file), env.mod.root)
	switch {
	case err != nil || !env.mod.inside(file):
		root = env.mod.root // a file outside the module links by absolute path
	case root == ".":
		root = ""
	}
	data := docs.Generate(env.cat, env.model, docs.Options{Root: filepath.ToSlash(root), Package: "events"})
	return env.writeOrCheck("docs", file, data, docs.Header, *check, stderr)
}

// runAsyncAPI is "eventgen asyncapi".
func runAsyncAPI(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("asyncapi", flag.ContinueOnError)
	catalogDir := fs.String("catalog", "", "the catalog `DIR` (default: catalog/ at the module root)")
	out := fs.String("out", "", "the output `FILE` (default: catalog/asyncapi.yaml at the module root)")
	check := fs.Bool("check", false, "write nothing; exit 1 when the file is stale or missing")
	host := fs.String("server", asyncapi.DefaultHost, "the NATS server's `HOST:PORT` in the document")
	version := fs.String("version", asyncapi.DefaultVersion, "the document's info.version `V`")
	if code := parseFlags(fs, asyncapiHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, "asyncapi", "unexpected argument %q", fs.Arg(0))
	case *host == "":
		return usageError(stderr, "asyncapi", "--server must not be empty")
	case *version == "":
		return usageError(stderr, "asyncapi", "--version must not be empty")
	}
	env, code := loadForDocs("asyncapi", *catalogDir, stderr)
	if code >= 0 {
		return code
	}
	data, err := asyncapi.Generate(env.cat, env.model, asyncapi.Options{Version: *version, Host: *host})
	if err != nil {
		return reportAs(stderr, "asyncapi", err)
	}
	file := env.file(*out, "catalog/asyncapi.yaml")
	return env.writeOrCheck("asyncapi", file, data, asyncapi.Header, *check, stderr)
}

// runNATS is "eventgen nats".
func runNATS(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nats", flag.ContinueOnError)
	catalogDir := fs.String("catalog", "", "the catalog `DIR` (default: catalog/ at the module root)")
	out := fs.String("out", "", "the output `DIR` (required)")
	maxDeliver := fs.Int("max-deliver", spec.DefaultMaxDeliver, "deliveries to a failing handler before a dead letter, as bus.WithMaxDeliver `N`")
	ackWait := fs.Duration("ack-wait", spec.DefaultAckWait, "the consumers' ack wait, as bus.WithAckWait")
	legacy := fs.Bool("nats-2.9", false, "write NATS 2.9 consumers: one durable per consumed subject, as the services make them on such a server")
	if code := parseFlags(fs, natsHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, "nats", "unexpected argument %q", fs.Arg(0))
	case *out == "":
		return usageError(stderr, "nats", "--out DIR is required")
	case *maxDeliver < 1:
		return usageError(stderr, "nats", "--max-deliver %d must be at least 1", *maxDeliver)
	case *ackWait <= 0:
		return usageError(stderr, "nats", "--ack-wait %s must be positive", *ackWait)
	}
	env, code := load("nats", *catalogDir, stderr)
	if code >= 0 {
		return code
	}
	files, err := natsconf.Generate(env.cat, natsconf.Options{MaxDeliver: *maxDeliver, AckWait: *ackWait, Legacy: *legacy})
	if err != nil {
		return reportAs(stderr, "nats", err)
	}
	dir := env.abs(*out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return reportAs(stderr, "nats", err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := writeFile(filepath.Join(dir, name), files[name]); err != nil {
			return reportAs(stderr, "nats", err)
		}
	}
	show := func(name string) string { return filepath.Join(*out, name) }
	fmt.Fprintf(stdout, "nats stream add --config %s\n", show(natsconf.StreamFile))
	fmt.Fprintf(stdout, "nats stream add --config %s\n", show(natsconf.DeadLetterStreamFile))
	for _, name := range names {
		if name != natsconf.StreamFile && name != natsconf.DeadLetterStreamFile {
			fmt.Fprintf(stdout, "nats consumer add %s --config %s\n", env.cat.Stream.Name, show(name))
		}
	}
	return exitOK
}

// docsEnv is a loaded catalog and where the command runs.
type docsEnv struct {
	wd    string
	mod   module
	cat   *catalog.Catalog
	model *model.Model
}

// load finds the module and loads its catalog, or the one of the
// --catalog flag. The code is -1 to go on, or the exit code after
// reporting a problem.
func load(cmd, catalogDir string, stderr io.Writer) (*docsEnv, int) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, reportAs(stderr, cmd, err)
	}
	mod, err := findModule(wd)
	if err != nil {
		return nil, reportAs(stderr, cmd, err)
	}
	env := &docsEnv{wd: wd, mod: mod}
	dir := filepath.Join(mod.root, "catalog")
	if catalogDir != "" {
		dir = env.abs(catalogDir)
	}
	if env.cat, err = catalog.Load(mod.root, dir); err != nil {
		return nil, reportAs(stderr, cmd, err)
	}
	return env, -1
}

// loadForDocs is load, then the model of the catalog.
func loadForDocs(cmd, catalogDir string, stderr io.Writer) (*docsEnv, int) {
	env, code := load(cmd, catalogDir, stderr)
	if code >= 0 {
		return nil, code
	}
	m, err := model.Build(env.cat, model.Options{Package: "events", SDKImport: sdkImport})
	if err != nil {
		return nil, reportAs(stderr, cmd, err)
	}
	env.model = m
	return env, -1
}

// abs returns the flag value p as an absolute path: relative ones are
// relative to the current folder.
func (env *docsEnv) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(env.wd, p)
}

// file returns the output file of the flag value p, or def (module
// relative, slash form) when p is empty.
func (env *docsEnv) file(p, def string) string {
	if p == "" {
		return filepath.Join(env.mod.root, filepath.FromSlash(def))
	}
	return env.abs(p)
}

// writeOrCheck writes data to file or, with check, reports whether file
// is up to date. A file that exists without header as its first line was
// not generated and is never replaced.
func (env *docsEnv) writeOrCheck(cmd, file string, data []byte, header string, check bool, stderr io.Writer) int {
	shown := env.mod.rel(file)
	old, err := os.ReadFile(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
		old = nil
	case err != nil:
		return reportAs(stderr, cmd, err)
	case !bytes.HasPrefix(old, []byte(header+"\n")):
		fmt.Fprintf(stderr, "%s was not generated by eventgen; not overwriting it (move it away, or choose another --out)\n", shown)
		return exitFindings
	}
	if check {
		switch {
		case old == nil:
			fmt.Fprintf(stderr, "%s is missing\n", shown)
		case !bytes.Equal(old, data):
			fmt.Fprintf(stderr, "%s is stale\n", shown)
		default:
			return exitOK
		}
		fmt.Fprintf(stderr, "run \"eventgen %s\" (or go generate ./...) to update it\n", cmd)
		return exitFindings
	}
	if bytes.Equal(old, data) {
		return exitOK
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return reportAs(stderr, cmd, err)
	}
	if err := writeFile(file, data); err != nil {
		return reportAs(stderr, cmd, err)
	}
	return exitOK
}

// reportAs prints err, one finding per line, and returns exitFindings.
func reportAs(stderr io.Writer, cmd string, err error) int {
	var diags catalog.Diagnostics
	var errs model.Errors
	switch {
	case errors.As(err, &diags), errors.As(err, &errs):
		fmt.Fprintln(stderr, err)
	default:
		fmt.Fprintf(stderr, "eventgen %s: %v\n", cmd, err)
	}
	return exitFindings
}
