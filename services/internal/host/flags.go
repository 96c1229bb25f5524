package host

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/giia/events/services/authn"
)

// Flags are the command-line settings of every service.
type Flags struct {
	NATSURL        string
	HTTPAddr       string
	DBPath         string
	EnsureTopology bool
	Auth           NATSAuth
	HTTP           HTTPLimits
	HTTPAuth       authn.Config
	Log            LogSettings
	Logger         *slog.Logger // by Log, to the command's standard error
}

// Config returns the configuration of the flags.
func (f Flags) Config() Config {
	return Config{NATSURL: f.NATSURL, HTTPAddr: f.HTTPAddr, DBPath: f.DBPath, EnsureTopology: f.EnsureTopology, Auth: f.Auth, HTTP: f.HTTP, HTTPAuth: f.HTTPAuth, Logger: f.Logger}
}

// setting is one flag and the environment variables that set it when the
// command line does not, the first one set winning.
type setting struct {
	name string
	env  []string
}

// settings are the flags of ParseFlags, in the order --help lists them.
var settings = []setting{
	{"nats", []string{"GIIA_NATS_URL", "NATS_URL"}},
	{"http", []string{"GIIA_HTTP_ADDR"}},
	{"db", []string{"GIIA_DB"}},
	{"ensure-topology", []string{"GIIA_ENSURE_TOPOLOGY"}},
	{"nats-user", []string{"GIIA_NATS_USER"}},
	{"nats-password-file", []string{"GIIA_NATS_PASSWORD_FILE"}},
	{"nats-creds", []string{"GIIA_NATS_CREDS"}},
	{"nats-tls-cert", []string{"GIIA_NATS_TLS_CERT"}},
	{"nats-tls-key", []string{"GIIA_NATS_TLS_KEY"}},
	{"nats-tls-ca", []string{"GIIA_NATS_TLS_CA"}},
	{"auth-issuer", []string{"GIIA_AUTH_ISSUER"}},
	{"auth-audience", []string{"GIIA_AUTH_AUDIENCE"}},
	{"auth-jwks", []string{"GIIA_AUTH_JWKS"}},
	{"http-read-timeout", []string{"GIIA_HTTP_READ_TIMEOUT"}},
	{"http-write-timeout", []string{"GIIA_HTTP_WRITE_TIMEOUT"}},
	{"http-idle-timeout", []string{"GIIA_HTTP_IDLE_TIMEOUT"}},
	{"http-request-timeout", []string{"GIIA_HTTP_REQUEST_TIMEOUT"}},
	{"http-max-header-bytes", []string{"GIIA_HTTP_MAX_HEADER_BYTES"}},
	{"http-max-concurrent", []string{"GIIA_HTTP_MAX_CONCURRENT"}},
	{"log-format", []string{"GIIA_LOG_FORMAT"}},
	{"log-level", []string{"GIIA_LOG_LEVEL"}},
}

// ParseFlags reads a service's settings from args and, for each flag args
// do not set, from its environment variables (looked up with lookupEnv,
// os.LookupEnv in a main): GIIA_NATS_URL or NATS_URL, GIIA_HTTP_ADDR,
// GIIA_DB, GIIA_ENSURE_TOPOLOGY, GIIA_NATS_USER, GIIA_NATS_PASSWORD_FILE,
// GIIA_NATS_CREDS, GIIA_NATS_TLS_CERT, GIIA_NATS_TLS_KEY, GIIA_NATS_TLS_CA,
// GIIA_AUTH_ISSUER, GIIA_AUTH_AUDIENCE, GIIA_AUTH_JWKS, GIIA_HTTP_READ_TIMEOUT, GIIA_HTTP_WRITE_TIMEOUT, GIIA_HTTP_IDLE_TIMEOUT,
// GIIA_HTTP_REQUEST_TIMEOUT, GIIA_HTTP_MAX_HEADER_BYTES,
// GIIA_HTTP_MAX_CONCURRENT, GIIA_LOG_FORMAT and GIIA_LOG_LEVEL. --help lists each flag with its
// variables. Secrets are never values of a flag or a variable, only the
// files that hold them. A bad flag, a bad variable or an argument beyond
// the flags is an error, written to stderr with the usage for a bad flag;
// flag.ErrHelp after --help.
func ParseFlags(name, defaultHTTP string, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (Flags, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f Flags
	fs.StringVar(&f.NATSURL, "nats", "nats://127.0.0.1:4222", "NATS server `URL`")
	fs.StringVar(&f.HTTPAddr, "http", defaultHTTP, "HTTP listen `address`")
	fs.StringVar(&f.DBPath, "db", name+".db", "SQLite database `file`")
	fs.BoolVar(&f.EnsureTopology, "ensure-topology", true, "create or update the stream and consumers of the catalog at start-up (a service's own NATS user may not: the platform's admin does it)")
	fs.StringVar(&f.Auth.User, "nats-user", "", "NATS `user` (default: the service's catalog user, "+name+", when a password file is given)")
	fs.StringVar(&f.Auth.PasswordFile, "nats-password-file", "", "`file` holding the NATS user's password")
	fs.StringVar(&f.Auth.CredsFile, "nats-creds", "", "NATS credentials `file` (a user JWT and its NKey seed), instead of a user and password")
	fs.StringVar(&f.Auth.TLSCert, "nats-tls-cert", "", "client certificate `file` (PEM) for TLS to NATS")
	fs.StringVar(&f.Auth.TLSKey, "nats-tls-key", "", "the client certificate's key `file` (PEM)")
	fs.StringVar(&f.Auth.TLSCA, "nats-tls-ca", "", "`file` of the CA certificates (PEM) NATS's certificate must chain to (default: the system's)")
	fs.StringVar(&f.HTTPAuth.Issuer, "auth-issuer", "", "the `issuer` (iss) of the API's bearer tokens")
	fs.StringVar(&f.HTTPAuth.Audience, "auth-audience", "", "the `audience` (aud) the API's bearer tokens must name")
	fs.StringVar(&f.HTTPAuth.JWKS, "auth-jwks", "", "the issuer's public keys: a JWKS `URL` (https://...) or file")
	fs.DurationVar(&f.HTTP.ReadTimeout, "http-read-timeout", DefaultReadTimeout, "bound on reading a request, body included")
	fs.DurationVar(&f.HTTP.WriteTimeout, "http-write-timeout", DefaultWriteTimeout, "bound on answering a request")
	fs.DurationVar(&f.HTTP.IdleTimeout, "http-idle-timeout", DefaultIdleTimeout, "bound on a kept-alive connection between requests")
	fs.DurationVar(&f.HTTP.RequestTimeout, "http-request-timeout", DefaultRequestTimeout, "deadline of a request's work")
	fs.IntVar(&f.HTTP.MaxHeaderBytes, "http-max-header-bytes", DefaultMaxHeaderBytes, "bound on a request's header `bytes`")
	fs.IntVar(&f.HTTP.MaxConcurrent, "http-max-concurrent", DefaultMaxConcurrent, "API `requests` served at once (one more is a 503)")
	fs.StringVar(&f.Log.Format, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&f.Log.Level, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.Usage = func() { usage(fs, name) }
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	if err := fromEnv(fs, lookupEnv); err != nil {
		return f, fmt.Errorf("%s: %w", name, err)
	}
	logger, err := f.Log.Logger(stderr)
	if err != nil {
		return f, fmt.Errorf("%s: %w", name, err)
	}
	f.Logger = logger
	return f, nil
}

// fromEnv sets each flag the command line did not from the first of its
// variables that is set.
func fromEnv(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if given[s.name] {
			continue
		}
		for _, v := range s.env {
			value, ok := lookupEnv(v)
			if !ok {
				continue
			}
			if err := fs.Set(s.name, value); err != nil {
				return fmt.Errorf("%s=%q (for --%s): %w", v, value, s.name, err)
			}
			break
		}
	}
	return nil
}

// usage writes the flags, each with its variables.
func usage(fs *flag.FlagSet, name string) {
	out := fs.Output()
	fmt.Fprintf(out, "Usage of %s:\n", name)
	fs.VisitAll(func(f *flag.Flag) {
		arg, help := flag.UnquoteUsage(f)
		fmt.Fprintf(out, "  --%s", f.Name)
		if arg != "" {
			fmt.Fprintf(out, " %s", arg)
		}
		fmt.Fprintf(out, "\n    \t%s", help)
		if f.DefValue != "" && f.DefValue != "false" && !strings.Contains(help, "(default") {
			fmt.Fprintf(out, " (default %q)", f.DefValue)
		}
		i := slices.IndexFunc(settings, func(s setting) bool { return s.name == f.Name })
		if i >= 0 {
			fmt.Fprintf(out, "\n    \tenvironment: %s", strings.Join(settings[i].env, " or "))
		}
		fmt.Fprintln(out)
	})
}
