// Package events is the typed SDK of the GIIA event catalog: subject
// constants, payload types, validators, the Catalog registry and one facade
// per service. Everything but this file is generated from catalog/ and
// schemas/ by eventgen; run `go generate ./...` after editing the catalog
// (it also rewrites catalog/EVENTS.md, catalog/asyncapi.yaml,
// catalog/nats-auth.conf and catalog/schema-history.json, the record of
// every version `eventgen check` compares against).
//
// An event with older versions may also need casters the generator cannot
// write: an upcaster between two versions whose schemas are not compatible,
// in upcasters.go, or the downcaster of a pinned publish_version, in
// downcasters.go. The event's owner writes them here, by hand, once;
// `eventgen generate` names each missing one with its signature.
package events

//go:generate go run ../../cmd/eventgen generate
//go:generate go run ../../cmd/eventgen docs
//go:generate go run ../../cmd/eventgen asyncapi
//go:generate go run ../../cmd/eventgen auth --out ../../catalog/nats-auth.conf
//go:generate go run ../../cmd/eventgen history
