package spec

import "slices"

// This file is the one definition of what each service may do on the NATS
// server: eventgen's "auth" command renders it as the server's
// authorization block, sdk/bus's tests run a server configured with it.

// Permissions returns the subjects service may publish to and subscribe
// to, least privilege, as eventgen's "auth" command writes them into the
// server's authorization block:
//
//   - publish: the subjects of the events it publishes; if it consumes
//     events, the dead-letter subject of each (DeadLetterSubject) and, for
//     each of its durable consumers (ConsumerName, and the per-subject
//     durables used on NATS 2.9), the JetStream API calls that create it,
//     read its info and pull from it, and its acknowledgements (both ack
//     subject formats of the server); and the read-only
//     "$JS.API.INFO" and "$JS.API.STREAM.INFO.<stream>";
//   - subscribe: its own inboxes, InboxPrefix(service)+".>".
//
// A service connects as user service with its password and the inbox
// prefix InboxPrefix(service).
// An unknown service gets nothing (nil, nil).
//
// Subject permissions cannot see a consumer's configuration: a service
// may create or update its own durable with any filter of the stream (on
// NATS 2.10+, where the filters travel in the request body); it can never
// pull from, or create, another service's durable.
func Permissions(cat *Catalog, service string) (publish, subscribe []string) {
	if cat == nil {
		return nil, nil
	}
	if _, ok := cat.Service(service); !ok {
		return nil, nil
	}
	stream := cat.Stream.Name
	publish = append(publish, cat.PublishedBy(service)...)
	consumed := cat.ConsumedBy(service)
	for _, s := range consumed {
		publish = append(publish, DeadLetterSubject(cat, service, s))
	}
	publish = append(publish, "$JS.API.INFO", "$JS.API.STREAM.INFO."+stream)
	if len(consumed) > 0 {
		type durable struct{ name, filter string }
		durables := []durable{{name: ConsumerName(service)}}
		for _, s := range consumed {
			durables = append(durables, durable{name: LegacyConsumerName(service, s), filter: s})
		}
		for _, d := range durables {
			publish = append(publish,
				ConsumerCreateSubject(stream, ConsumerConfig{Durable: d.name, FilterSubject: d.filter}),
				"$JS.API.CONSUMER.INFO."+stream+"."+d.name,
				"$JS.API.CONSUMER.MSG.NEXT."+stream+"."+d.name,
				"$JS.ACK."+stream+"."+d.name+".>",
				"$JS.ACK.*.*."+stream+"."+d.name+".>",
			)
		}
	}
	return publish, []string{InboxPrefix(service) + ".>"}
}

// AdminPermissions returns the subjects AdminUser may publish to and
// subscribe to: the whole JetStream API ("$JS.API.>": streams, consumers,
// reading and deleting dead letters), the stream's subjects (replaying a
// dead letter publishes it again), and every inbox.
func AdminPermissions(cat *Catalog) (publish, subscribe []string) {
	if cat == nil {
		return nil, nil
	}
	publish = append([]string{"$JS.API.>"}, cat.Stream.Subjects...)
	return slices.Clip(publish), []string{"_INBOX.>"}
}
