// Package bus is the runtime of GIIA events on NATS JetStream, and only
// that: the connection, the stream and consumer set-up, the envelope, the
// publisher (synchronous and asynchronous), the subscriber, dead letters,
// permission refusals and trace propagation. Services normally use it
// through the generated package sdk/events, whose Catalog, publisher
// facades and handler structs call into it; it can also be used directly
// with any *spec.Catalog. The catalog's description and the names and
// configurations derived from it live in sdk/spec, the payload checks and
// encoders generated code calls in sdk/payload, and the transactional
// outbox and inbox in sdk/outbox, which publishes through this package's
// Publisher.Encode, SendEncoded and AsyncRoom.
//
// # Wire format
//
// Every event travels as a JSON envelope (Envelope, spec.EnvelopeSchema) with
// its id, subject, correlation id, organization, timestamp, source
// service, schema version and payload. The Nats-Msg-Id header is the
// envelope id, so a publish retried with the same id inside the stream's
// duplicates window is stored once.
//
// # Publishing
//
// A Publisher belongs to one service and publishes only the events the
// catalog gives that service. The payload is checked against its schema
// before anything is sent; a failing payload returns a *payload.ValidationError
// naming each failing JSON pointer. Transient failures are retried with
// the same event id; a refused permission is returned at once.
//
//	conn, err := bus.Connect(natsURL, bus.WithName("execution"))
//	if err != nil { ... }
//	defer conn.Close()
//	if err := bus.EnsureTopology(ctx, conn, events.Catalog); err != nil { ... }
//
//	pub, err := bus.NewPublisher(conn, events.Catalog, "execution")
//	if err != nil { ... }
//	ack, err := pub.Publish(ctx, "execution.purchase_order.created", payload)
//	var verr *payload.ValidationError
//	switch {
//	case errors.As(err, &verr): // verr.Violations[0].Pointer == "/quantity", ...
//	case errors.Is(err, bus.ErrPermissionDenied):
//	case err != nil: // *bus.PublishError after the retries
//	}
//
// # Publishing in batches
//
// PublishAsync checks and encodes an event as Publish does, sends it
// without waiting for the stream, and returns a *PublishFuture that
// reports its outcome (Done, Wait); transient failures are retried with
// the same id. At most WithMaxPending events are in flight; Flush waits
// until every one has its outcome, and comes before closing the
// connection. PublishBatch does all three for a slice of events. The
// outbox's relay publishes its rows this way.
//
//	futures := make([]*bus.PublishFuture, 0, len(orders))
//	for _, po := range orders {
//		f, err := pub.PublishAsync(ctx, events.SubjectExecutionPurchaseOrderCreated, po)
//		if err != nil {
//			return err // invalid: not sent
//		}
//		futures = append(futures, f)
//	}
//	if err := pub.Flush(ctx); err != nil { ... }
//	for _, f := range futures {
//		if _, err := f.Wait(ctx); err != nil { ... } // a *PublishError
//	}
//
// # Consuming
//
// Each consuming service has one durable pull consumer, spec.ConsumerName
// ("ddmrp-service"), filtered on the subjects it consumes (on NATS 2.9,
// one durable per subject). Consume decodes and validates each message
// and calls the typed handler of its subject; nil acknowledges, an error
// redelivers after a growing delay, Permanent(err), an invalid message or
// the MaxDeliver-th failure dead-letters it under
// "<dead-letter prefix>.<service>.<subject>" with the reason in the
// Giia-Dead-Letter-Reason header. A handler's context carries the event's
// correlation, so what it publishes inherits it.
//
//	sub, err := bus.Consume(ctx, conn, events.Catalog, "ddmrp", []bus.Route{
//		bus.NewRoute("execution.purchase_order.created",
//			func(ctx context.Context, ev bus.Event[events.PurchaseOrderCreated]) error {
//				return planner.OnPurchaseOrder(ctx, ev.Payload)
//			}),
//	}, bus.WithMaxInFlight(8))
//	if err != nil { ... }
//	<-shutdown
//	_ = sub.Stop(stopCtx) // stop pulling, finish in-flight handlers
//	_ = conn.Close()       // then drain the connection
//
// # Errors
//
// Every failure is one of the ErrX variables of this package, matchable
// with errors.Is; *payload.ValidationError and *PublishError carry details for
// errors.As.
package bus
