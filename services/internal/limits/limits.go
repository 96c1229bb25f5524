// Package limits holds the bounds the services put on numbers where a
// planner would: far beyond any real order, buffer or price, and small
// enough that no sum of them leaves float64's range, so that every
// position stays finite and every event encodes.
package limits

// The bounds, inclusive.
const (
	MaxQuantity = 1e12 // units of any quantity: an order line, a delta, ADU, MOQ
	MaxAmount   = 1e12 // a unit price, in its currency
	MaxDays     = 3650 // a lead time or an order cycle: ten years

	// MaxLines bounds an order's lines: its event (about 400 bytes a
	// line) stays far below the 1 MiB a NATS message carries by default.
	MaxLines = 1000
)
