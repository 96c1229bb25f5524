package spec

import "strings"

// Defaults of the dead-letter stream when the catalog leaves them empty.
const (
	DefaultDeadLetterStreamSuffix = "_DEAD_LETTERS"
	DefaultDeadLetterPrefix       = "deadletter"
)

// AdminUser is the user that provisions the streams and consumers and
// lists and replays dead letters.
const AdminUser = "admin"

// ConsumerName returns the name of service's durable consumer:
// "<service>-service".
func ConsumerName(service string) string { return service + "-service" }

// LegacyConsumerName returns the durable of service for one subject, used
// on NATS 2.9 servers, which filter a consumer on one subject only:
// "<service>-service-<subject with dots as underscores>".
func LegacyConsumerName(service, subject string) string {
	return ConsumerName(service) + "-" + strings.ReplaceAll(subject, ".", "_")
}

// DeadLetters returns the dead-letter stream and subject prefix of cat,
// the catalog's or the defaults.
func DeadLetters(cat *Catalog) (stream, prefix string) {
	stream, prefix = cat.Stream.DeadLetterStream, cat.Stream.DeadLetterPrefix
	if stream == "" {
		stream = cat.Stream.Name + DefaultDeadLetterStreamSuffix
	}
	if prefix == "" {
		prefix = DefaultDeadLetterPrefix
	}
	return stream, prefix
}

// DeadLetterSubject returns the subject under which service's dead
// letters of subject are kept: <prefix>.<service>.<subject>.
func DeadLetterSubject(cat *Catalog, service, subject string) string {
	_, prefix := DeadLetters(cat)
	return prefix + "." + service + "." + subject
}

// InboxPrefix returns the inbox prefix service connects with:
// "_INBOX.<service>". Replies to its requests (publish acks, JetStream API
// responses, the messages its pull consumer delivers) come on subjects
// under it, and it may subscribe to nothing else, so no service reads
// another's replies or messages.
func InboxPrefix(service string) string { return "_INBOX." + service }

// ConsumerCreateSubject is the JetStream API subject on which a client
// creates or updates the durable of cfg on stream: with the filter as a
// last token when the durable filters one subject (FilterSubject), as
// nats.go sends it.
func ConsumerCreateSubject(stream string, cfg ConsumerConfig) string {
	subject := "$JS.API.CONSUMER.CREATE." + stream + "." + cfg.Durable
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) == 0 {
		subject += "." + cfg.FilterSubject
	}
	return subject
}
