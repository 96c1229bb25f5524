// Package events is the typed SDK of the GIIA event catalog: subject
// constants, payload types, validators, the Catalog registry and one facade
// per service. Everything but this file is generated from catalog/ and
// schemas/ by eventgen; run `go generate ./...` after editing the catalog
// (it also rewrites catalog/EVENTS.md, catalog/asyncapi.yaml and
// catalog/nats-auth.conf).
package events

//go:generate go run ../../cmd/eventgen generate
//go:generate go run ../../cmd/eventgen docs
//go:generate go run ../../cmd/eventgen asyncapi
//go:generate go run ../../cmd/eventgen auth --out ../../catalog/nats-auth.conf
