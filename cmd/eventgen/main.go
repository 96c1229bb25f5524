// Command eventgen generates the typed Go SDK of the GIIA event catalog
// and checks payloads and catalog changes against it. Run "eventgen help".
package main

import (
	"os"

	"github.com/giia/events/cmd/eventgen/internal/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
