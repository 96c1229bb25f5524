// Package e2e holds the end-to-end tests of the services: both services
// in one process on an in-process NATS server, driven through their HTTP
// APIs, with the stream read back by a plain nats.go client. It has no
// code of its own.
package e2e
