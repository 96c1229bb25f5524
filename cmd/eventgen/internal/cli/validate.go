package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/sdk/payload"
)

const validateHelp = `usage: eventgen validate [--catalog DIR] SUBJECT FILE...

Validate checks each FILE, one JSON payload, against the JSON Schema of the
event SUBJECT: the same check a consumer of the event applies. It prints
"FILE: ok" on stdout for each valid file, and on stderr one line
"FILE: /json/pointer: what is wrong" per problem of each invalid one
("/" is the whole payload).

It loads catalog/ of the module that holds the current folder; a --catalog
given is relative to the current folder. When the catalog has problems it
prints them and validates nothing.

Exit codes: 0 every file is valid; 1 findings (an invalid or unreadable
file, an unknown subject, an invalid catalog); 2 usage.

Flags:
`

// runValidate is "eventgen validate": args are those after "validate".
func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	catalogDir := fs.String("catalog", "", "the catalog `DIR` (default: catalog/ at the module root)")
	positional, code := validateParse(fs, args, stdout, stderr)
	if code >= 0 {
		return code
	}
	switch len(positional) {
	case 0:
		return validateUsageError(stderr, "missing SUBJECT and FILE arguments")
	case 1:
		return validateUsageError(stderr, "missing FILE arguments after the subject %q", positional[0])
	}
	subject, files := positional[0], positional[1:]

	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "eventgen validate: %v\n", err)
		return exitFindings
	}
	root, err := validateFindRoot(wd)
	if err != nil {
		fmt.Fprintf(stderr, "eventgen validate: %v\n", err)
		return exitFindings
	}
	dir := filepath.Join(root, "catalog")
	if *catalogDir != "" {
		dir = *catalogDir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(wd, dir)
		}
	}

	cat, err := catalog.Load(root, dir)
	if err != nil {
		var diags catalog.Diagnostics
		if errors.As(err, &diags) {
			fmt.Fprintln(stderr, err)
		} else {
			fmt.Fprintf(stderr, "eventgen validate: %v\n", err)
		}
		return exitFindings
	}
	if _, ok := cat.Event(subject); !ok {
		fmt.Fprintf(stderr, "eventgen validate: unknown subject %q: the catalog %s has no such event\n", subject, cat.Dir)
		return exitFindings
	}
	schema, err := cat.Compile(subject)
	if err != nil {
		fmt.Fprintf(stderr, "eventgen validate: %v\n", err)
		return exitFindings
	}

	code = exitOK
	for _, file := range files {
		if !validateFile(schema, file, stdout, stderr) {
			code = exitFindings
		}
	}
	return code
}

// validateFile checks one payload file and reports the verdict; it returns
// whether the payload is valid.
func validateFile(schema *payload.Schema, file string, stdout, stderr io.Writer) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		fmt.Fprintf(stderr, "%s: cannot read the file: %v\n", file, err)
		return false
	}
	err = schema.ValidateJSON(data)
	var ve *payload.ValidationError
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "%s: ok\n", file)
		return true
	case errors.As(err, &ve):
		for _, v := range ve.Violations {
			fmt.Fprintf(stderr, "%s: %s\n", file, v)
		}
	default:
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
	}
	return false
}

// validateParse parses the flags, which may come before, between or after
// the arguments ("--" ends them), and returns the arguments. The code is
// -1 to go on, or the exit code after --help (0) or a flag error (2).
func validateParse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, int) {
	fs.SetOutput(io.Discard)
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, validateHelp)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	var positional []string
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			printUsage(stdout)
			return nil, exitOK
		case err != nil:
			fmt.Fprintf(stderr, "eventgen validate: %v\n", err)
			printUsage(stderr)
			return nil, exitUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, -1
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), -1
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func validateUsageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "eventgen validate: %s\nRun \"eventgen validate --help\" for usage.\n", fmt.Sprintf(format, args...))
	return exitUsage
}

// validateFindRoot walks up from dir to the nearest folder holding go.mod.
func validateFindRoot(dir string) (string, error) {
	for d := dir; ; {
		info, err := os.Stat(filepath.Join(d, "go.mod"))
		switch {
		case err == nil && !info.IsDir():
			return d, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("finding the module root: %w", err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or any folder above it", dir)
		}
		d = parent
	}
}
