// Package spec is the description of the platform that needs no NATS: the
// runtime catalog (stream, services, events), the names derived from it
// (durable consumers, dead-letter subjects, inbox prefixes, users), the
// server configuration of its streams and consumers, the permissions of
// each service, and the envelope's JSON Schema.
//
// sdk/bus sets up and checks a server from it; eventgen writes the same
// configuration and permissions as files for operators. Both read these
// functions, so that what the tools write and what the runtime makes
// cannot drift apart, and the generator links no NATS client.
package spec
