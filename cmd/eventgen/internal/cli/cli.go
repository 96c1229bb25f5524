// Package cli is eventgen's command line. Run takes the arguments and the
// output streams and returns the exit code, so that the whole tool runs
// in-process in tests; cmd/eventgen's main only calls it.
package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Exit codes.
const (
	exitOK       = 0 // done, nothing to report
	exitFindings = 1 // an invalid catalog or payload, stale files, a failure
	exitUsage    = 2 // bad arguments
)

const usage = `eventgen generates and checks the typed Go SDK of the GIIA event catalog.

Usage:

	eventgen <command> [arguments]

Commands:

	generate   generate the Go SDK (sdk/events) from catalog/ and schemas/
	validate   check payload files against an event's schema
	check      report breaking changes against another version (--against REF|DIR)
	history    record the schema of every event version (catalog/schema-history.json)
	docs       write the catalog's documentation (catalog/EVENTS.md)
	asyncapi   write the catalog as an AsyncAPI 3.0.0 document (catalog/asyncapi.yaml)
	nats       write the NATS CLI's stream and consumer configuration files
	auth       write the NATS server's authorization block, least privilege
	version    print eventgen's version and the runtime the generated code imports

Run "eventgen <command> --help" for a command's flags.
Exit codes: 0 ok, 1 findings (reported on stderr), 2 usage.
`

// Run runs eventgen with args (without the program name) and returns the
// exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			return Run([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	case "generate":
		return runGenerate(args[1:], stdout, stderr)
	case "validate":
		return runValidate(args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "history":
		return runHistory(args[1:], stdout, stderr)
	case "docs":
		return runDocs(args[1:], stdout, stderr)
	case "asyncapi":
		return runAsyncAPI(args[1:], stdout, stderr)
	case "nats":
		return runNATS(args[1:], stdout, stderr)
	case "auth":
		return runAuth(args[1:], stdout, stderr)
	case "version":
		return runVersion(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "eventgen: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// parseFlags parses args with fs. It returns -1 when the command is to go
// on, or the exit code: 0 after printing the help that -h or --help asked
// for to stdout, 2 after printing a flag error and the usage to stderr.
// help is the text printed before the flags' defaults.
func parseFlags(fs *flag.FlagSet, help string, args []string, stdout, stderr io.Writer) int {
	fs.SetOutput(io.Discard)
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, help)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printUsage(stdout)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "eventgen %s: %v\n", fs.Name(), err)
		printUsage(stderr)
		return exitUsage
	}
	return -1
}

// usageError prints a usage problem of the command and returns exitUsage.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "eventgen %s: %s\nRun \"eventgen %s --help\" for usage.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// module is the Go module eventgen runs in.
type module struct {
	root string // absolute directory of go.mod
	path string // the module path of its module line
}

// findModule walks up from dir to the nearest go.mod.
func findModule(dir string) (module, error) {
	for d := dir; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		switch {
		case err == nil:
			p, err := modulePath(data)
			if err != nil {
				return module{}, fmt.Errorf("%s: %w", filepath.Join(d, "go.mod"), err)
			}
			return module{root: d, path: p}, nil
		case !errors.Is(err, os.ErrNotExist):
			return module{}, err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return module{}, fmt.Errorf("no go.mod in %s or any folder above it", dir)
		}
		d = parent
	}
}

// modulePath returns the path of go.mod's module line.
func modulePath(gomod []byte) (string, error) {
	sc := bufio.NewScanner(strings.NewReader(string(gomod)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		p := strings.TrimSpace(rest)
		if uq, err := strconv.Unquote(p); err == nil {
			p = uq
		}
		if p != "" {
			return p, nil
		}
	}
	return "", errors.New("no module line")
}

// rel returns path relative to the module root in slash form, or path
// itself when it lies outside the module.
func (m module) rel(path string) string {
	r, err := filepath.Rel(m.root, path)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return path
	}
	return filepath.ToSlash(r)
}

// inside reports whether the absolute path is the module root or below it.
func (m module) inside(path string) bool {
	return m.rel(path) != path
}
