package spec

// EnvelopeSchema is the JSON Schema of the envelope (schemas/envelope.json,
// kept byte-for-byte equal to it; a test checks). A package cannot embed a
// file outside its folder, hence the copy.
const EnvelopeSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Envelope",
  "description": "The wire envelope every GIIA event travels in on NATS JetStream; its id is also the Nats-Msg-Id header. The payload is checked separately against its event's schema, chosen by subject and version.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "id",
    "subject",
    "correlation_id",
    "organization_id",
    "timestamp",
    "source",
    "version",
    "payload"
  ],
  "properties": {
    "id": {
      "description": "The event's unique id, also sent as Nats-Msg-Id so a retried publish is stored once.",
      "type": "string",
      "format": "uuid"
    },
    "subject": {
      "description": "The event's subject: lower-case dot-separated tokens of letters, digits and underscores, no wildcards (e.g. execution.purchase_order.created).",
      "type": "string",
      "maxLength": 255,
      "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$"
    },
    "correlation_id": {
      "description": "Ties together every event caused by one request or one chain of reactions.",
      "type": "string",
      "minLength": 1,
      "maxLength": 128
    },
    "organization_id": {
      "description": "The tenant the event belongs to.",
      "type": "string",
      "format": "uuid"
    },
    "timestamp": {
      "description": "When the event was published (RFC 3339, UTC).",
      "type": "string",
      "format": "date-time"
    },
    "source": {
      "description": "The name of the publishing service as declared in the catalog (e.g. execution, ddmrp).",
      "type": "string",
      "pattern": "^[a-z][a-z0-9-]*$"
    },
    "version": {
      "description": "The version of the payload's schema, as declared for the event in the catalog.",
      "type": "integer",
      "minimum": 1
    },
    "payload": {
      "description": "The event's payload, valid against the schema of the event's subject and version.",
      "type": "object"
    }
  }
}
`
