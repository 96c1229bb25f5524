// Package e2e holds the end-to-end tests of the services: both services
// in one process on an in-process NATS server, driven through their HTTP
// APIs, with the stream read back by a plain nats.go client. It stands
// above both services, the one place that starts them together, and its
// imports tests hold the layering: the services talk to NATS only through
// the SDK, import no tool (cmd/...), and nothing they share
// (services/internal, services/sqlitedb) imports either of them. It has
// no code of its own.
package e2e
