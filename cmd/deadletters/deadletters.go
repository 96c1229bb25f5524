package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
)

// Command deadletters lists and replays the dead letters of the platform's
// catalog (sdk/events): the operator's tool for what consumers gave up on.
//
//	go run ./cmd/deadletters list
//	go run ./cmd/deadletters replay 42
//	go run ./cmd/deadletters replay --all --service ddmrp
//
// It exits 0 when done, 1 when the server refused or a dead letter could
// not be replayed, 2 on bad arguments.

// DefaultNATSURL is the server deadletters connects to when
// neither --nats nor $NATS_URL names one.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// Exit codes.
const (
	exitOK       = 0 // done
	exitFindings = 1 // a refusal of the server, a dead letter not replayed
	exitUsage    = 2 // bad arguments
)

const deadlettersHelp = `usage: deadletters list [flags]
       deadletters replay SEQ... [flags]
       deadletters replay --all [flags]

Deadletters lists and replays the dead letters of the catalog's
dead-letter stream: the messages a consumer gave up on (a payload or
envelope that breaks its schema, a handler that failed permanently or past
MaxDeliver), kept byte for byte with why.

list prints one line per dead letter, oldest first:

	SEQ SUBJECT CONSUMER DELIVERIES REASON

where SEQ is its sequence in the dead-letter stream and SUBJECT its
original subject.

replay publishes a dead letter's original bytes again to its original
subject (every consumer of the subject receives it; the envelope keeps its
event id) and, once the stream acknowledged it, deletes the dead letter.
It takes sequences, or --all for every dead letter that the --service and
--subject filters keep.

It connects to --nats, else $NATS_URL, else ` + DefaultNATSURL + `; give
credentials in the URL (nats://admin:PASSWORD@host:4222) or with --creds.
The stream and dead-letter names are those of the catalog it was built
with (sdk/events).

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, events.Catalog))
}

// run is the command with its arguments, on the catalog cat.
func run(args []string, stdout, stderr io.Writer, cat *spec.Catalog) int {
	fs := flag.NewFlagSet("deadletters", flag.ContinueOnError)
	url := fs.String("nats", "", "the NATS server `URL` (default: $NATS_URL, else "+DefaultNATSURL+")")
	creds := fs.String("creds", "", "a NATS credentials `FILE`")
	service := fs.String("service", "", "only the dead letters of this consuming `SERVICE`")
	subject := fs.String("subject", "", "only the dead letters of this original `SUBJECT`")
	limit := fs.Int("limit", 0, "list: at most `N` dead letters, the oldest (0: all)")
	all := fs.Bool("all", false, "replay: every dead letter the filters keep")
	timeout := fs.Duration("timeout", time.Minute, "give up after this `DURATION`")
	positional, code := parseInterleaved(fs, deadlettersHelp, args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(positional) == 0 {
		return usageError(stderr, "missing command: list or replay")
	}
	cmd, rest := positional[0], positional[1:]
	var seqs []uint64
	switch cmd {
	case "list":
		switch {
		case len(rest) > 0:
			return usageError(stderr, "list takes no argument (got %q)", rest[0])
		case *all:
			return usageError(stderr, "--all goes with replay")
		}
	case "replay":
		switch {
		case *all && len(rest) > 0:
			return usageError(stderr, "replay takes sequences or --all, not both")
		case !*all && len(rest) == 0:
			return usageError(stderr, "replay needs a sequence, or --all")
		case !*all && (*service != "" || *subject != ""):
			return usageError(stderr, "--service and --subject filter replay --all")
		case *limit != 0:
			return usageError(stderr, "--limit goes with list")
		}
		for _, a := range rest {
			seq, err := strconv.ParseUint(a, 10, 64)
			if err != nil || seq == 0 {
				return usageError(stderr, "sequence %q is not a positive integer", a)
			}
			seqs = append(seqs, seq)
		}
	default:
		return usageError(stderr, "unknown command %q (want list or replay)", cmd)
	}
	if *limit < 0 {
		return usageError(stderr, "--limit %d must not be negative", *limit)
	}
	if *timeout <= 0 {
		return usageError(stderr, "--timeout %s must be positive", *timeout)
	}
	var filters []bus.DeadLetterFilter
	if *service != "" {
		filters = append(filters, bus.FilterService(*service))
	}
	if *subject != "" {
		filters = append(filters, bus.FilterSubject(*subject))
	}
	if *limit > 0 {
		filters = append(filters, bus.FilterLimit(*limit))
	}

	if _, ok := cat.Service(*service); *service != "" && !ok {
		names := make([]string, len(cat.Services))
		for i, sv := range cat.Services {
			names[i] = strconv.Quote(sv.Name)
		}
		return usageError(stderr, "--service %q is not a service of the catalog (want one of %s)", *service, strings.Join(names, ", "))
	}
	if *subject != "" && (strings.ContainsAny(*subject, "*> \t") || slices.Contains(strings.Split(*subject, "."), "")) {
		return usageError(stderr, "--subject %q is not an event's subject (no wildcards)", *subject)
	}
	if *url == "" {
		*url = os.Getenv("NATS_URL")
	}
	if *url == "" {
		*url = DefaultNATSURL
	}
	opts := []bus.ConnectOption{bus.WithName("deadletters"), bus.WithReconnect(0, time.Second)}
	if *creds != "" {
		opts = append(opts, bus.WithCredentialsFile(*creds))
	}
	conn, err := bus.Connect(*url, opts...)
	if err != nil {
		return report(stderr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	switch {
	case cmd == "list":
		dls, err := bus.ListDeadLetters(ctx, conn, cat, filters...)
		if err != nil {
			return report(stderr, err)
		}
		for _, dl := range dls {
			fmt.Fprintf(stdout, "%d %s %s %d %s\n", dl.Sequence, dl.OriginalSubject, dl.Consumer, dl.DeliveryCount, dl.Reason)
		}
		return exitOK
	case *all:
		n, err := bus.ReplayAll(ctx, conn, cat, filters...)
		fmt.Fprintf(stdout, "replayed %d\n", n)
		if err != nil {
			return report(stderr, err)
		}
		return exitOK
	}
	failed := false
	for _, seq := range seqs {
		if err := bus.ReplayDeadLetter(ctx, conn, cat, seq); err != nil {
			fmt.Fprintf(stderr, "deadletters: %v\n", err)
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "replayed %d\n", seq)
	}
	if failed {
		return exitFindings
	}
	return exitOK
}

// parseInterleaved parses args with fs, flags and positional arguments in
// any order, and returns the positional ones. The code is as parseFlags
// returns it.
func parseInterleaved(fs *flag.FlagSet, help string, args []string, stdout, stderr io.Writer) ([]string, int) {
	var positional []string
	for {
		if code := parseFlags(fs, help, args, stdout, stderr); code >= 0 {
			return nil, code
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, -1
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), -1
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseFlags parses args with fs. It returns -1 when the command is to go
// on, or the exit code: 0 after printing the help that -h or --help asked
// for to stdout, 2 after printing a flag error and the usage to stderr.
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
		fmt.Fprintf(stderr, "deadletters: %v\n", err)
		printUsage(stderr)
		return exitUsage
	}
	return -1
}

// usageError prints a usage problem and returns exitUsage.
func usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "deadletters: %s\nRun \"deadletters --help\" for usage.\n", fmt.Sprintf(format, args...))
	return exitUsage
}

// report prints err and returns exitFindings.
func report(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "deadletters: %v\n", err)
	return exitFindings
}
