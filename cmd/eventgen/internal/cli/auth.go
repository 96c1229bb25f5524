package cli

import (
	"flag"
	"io"

	"github.com/giia/events/cmd/eventgen/internal/authz"
	"github.com/giia/events/cmd/eventgen/internal/natsconf"
)

const authHelp = `usage: eventgen auth [--catalog DIR] [--out FILE] [--check]

Auth writes the NATS server authorization block of the catalog, least
privilege (nats-server configuration syntax, to include in the server's
configuration):

  - a user per service of the catalog, external ones too, that may publish
    only the events it owns and its dead letters, create and pull only its
    own durable consumer, and subscribe only to its own inboxes
    ("_INBOX.<service>.>": connect with bus.WithInboxPrefix);
  - "admin", which provisions the streams and consumers
    (bus.EnsureTopology) and lists and replays dead letters.

Each password comes from an environment variable of the server, named
after the user: ADMIN_PASSWORD, EXECUTION_PASSWORD, AI_HUB_PASSWORD...
The permissions are those of sdk/bus (spec.Permissions,
spec.AdminPermissions).

Without --out it writes to standard output. It reads catalog/ of the module
that holds the current folder; flags given are relative to the current
folder. It does not overwrite a file that it did not generate. With --check
(which needs --out) it writes nothing, and exits 1 naming the file when it
is stale or missing.

Flags:
`

// runAuth is "eventgen auth".
func runAuth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("auth", flag.ContinueOnError)
	catalogDir := fs.String("catalog", "", "the catalog `DIR` (default: catalog/ at the module root)")
	out := fs.String("out", "", "the output `FILE` (default: standard output)")
	check := fs.Bool("check", false, "write nothing; exit 1 when the --out file is stale or missing")
	if code := parseFlags(fs, authHelp, args, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, "auth", "unexpected argument %q", fs.Arg(0))
	case *check && *out == "":
		return usageError(stderr, "auth", "--check needs --out FILE")
	}
	env, code := load("auth", *catalogDir, stderr)
	if code >= 0 {
		return code
	}
	data, err := authz.Generate(natsconf.RuntimeCatalog(env.cat), authz.Options{Sources: env.cat.Files})
	if err != nil {
		return reportAs(stderr, "auth", err)
	}
	if *out == "" {
		if _, err := stdout.Write(data); err != nil {
			return reportAs(stderr, "auth", err)
		}
		return exitOK
	}
	return env.writeOrCheck("auth", env.abs(*out), data, authz.Header, *check, stderr)
}
