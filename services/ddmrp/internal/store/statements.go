package store

import (
	"context"
	"database/sql"
	"fmt"
)

// query names one of the store's statements.
type query int

// The store's statements, prepared once by Open. Why: the driver
// (modernc.org/sqlite) compiles the SQL of an unprepared statement every
// time it runs, which cost more than running most of these; a reaction
// to an event runs about ten of them.
const (
	qProduct query = iota
	qOnHand
	qOnOrder
	qDraftSupply
	qPlaceSupply
	qSetDemandOutstanding
	qLearnProduct
	qDiscontinueProduct
	qSetOnHand
	qPutSupply
	qSetSupplyOutstanding
	qPutDemand
	qDemand
	qBuffer
	qBuffers
	qSaveBuffer
	qPosition
	qSaveEvaluation
	qOpenDemand
	nQueries
)

// queries holds the SQL of each query.
var queries = [nQueries]string{
	qProduct:              `SELECT sku, unit, discontinued FROM products WHERE org = ? AND product_id = ?`,
	qOnHand:               `SELECT on_hand FROM stock WHERE org = ? AND product_id = ? AND location_id = ?`,
	qOnOrder:              `SELECT COALESCE(SUM(outstanding), 0) FROM supply WHERE org = ? AND product_id = ? AND location_id = ? AND placed = 1 AND outstanding <> 0`,
	qDraftSupply:          `SELECT COALESCE(SUM(outstanding), 0) FROM supply WHERE org = ? AND product_id = ? AND location_id = ? AND placed = 0 AND outstanding <> 0`,
	qPlaceSupply:          `UPDATE supply SET placed = 1 WHERE org = ? AND order_id = ?`,
	qSetDemandOutstanding: `UPDATE demand SET outstanding = ? WHERE org = ? AND order_id = ? AND line_number = ?`,
	qLearnProduct: `
INSERT INTO products (org, product_id, sku, unit) VALUES (?, ?, ?, ?)
ON CONFLICT (org, product_id) DO UPDATE SET
	sku = excluded.sku,
	unit = CASE WHEN excluded.unit = '' THEN products.unit ELSE excluded.unit END`,
	qDiscontinueProduct: `
INSERT INTO products (org, product_id, sku, discontinued) VALUES (?, ?, ?, 1)
ON CONFLICT (org, product_id) DO UPDATE SET discontinued = 1`,
	qSetOnHand: `
INSERT INTO stock (org, product_id, location_id, on_hand) VALUES (?, ?, ?, ?)
ON CONFLICT (org, product_id, location_id) DO UPDATE SET on_hand = excluded.on_hand`,
	qPutSupply: `
INSERT INTO supply (org, order_id, line_number, product_id, location_id, outstanding, placed) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org, order_id, line_number) DO NOTHING`,
	qSetSupplyOutstanding: `
INSERT INTO supply (org, order_id, line_number, product_id, location_id, outstanding, placed) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org, order_id, line_number) DO UPDATE SET outstanding = excluded.outstanding, placed = excluded.placed`,
	qPutDemand: `
INSERT INTO demand (org, order_id, line_number, product_id, location_id, due_date, outstanding) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org, order_id, line_number) DO NOTHING`,
	qDemand: `
SELECT order_id, line_number, due_date, outstanding FROM demand
WHERE org = ? AND product_id = ? AND location_id = ? AND outstanding > 0
ORDER BY due_date, order_id, line_number`,
	qBuffer:  `SELECT ` + bufferColumns + ` FROM buffers WHERE org = ? AND product_id = ? AND location_id = ?`,
	qBuffers: `SELECT ` + bufferColumns + ` FROM buffers WHERE org = ? AND (product_id, location_id) > (?, ?) ORDER BY product_id, location_id LIMIT ?`,
	qSaveBuffer: `
INSERT INTO buffers (org, ` + bufferColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org, product_id, location_id) DO UPDATE SET
	adu = excluded.adu, dlt_days = excluded.dlt_days, lead_time_factor = excluded.lead_time_factor,
	variability_factor = excluded.variability_factor, moq = excluded.moq, order_cycle_days = excluded.order_cycle_days,
	zone = excluded.zone, net_flow_position = excluded.net_flow_position, armed = excluded.armed, updated_at = excluded.updated_at`,
	// A position's buffer, product, on-hand and on-order stock, and its
	// open demand, in one statement (Position): a reaction to an event
	// reads them for every position it touches. One row per open demand
	// line in Demand's order (one row with NULL demand when none).
	qPosition: `
SELECT b.buffer_id, b.adu, b.dlt_days, b.lead_time_factor, b.variability_factor, b.moq, b.order_cycle_days,
	b.zone, b.net_flow_position, b.armed, b.updated_at,
	p.sku, p.unit, p.discontinued, p.product_id IS NOT NULL,
	COALESCE((SELECT s.on_hand FROM stock s WHERE s.org = b.org AND s.product_id = b.product_id AND s.location_id = b.location_id), 0),
	(SELECT COALESCE(SUM(u.outstanding), 0) FROM supply u
		WHERE u.org = b.org AND u.product_id = b.product_id AND u.location_id = b.location_id AND u.placed = 1 AND u.outstanding <> 0),
	d.outstanding, d.due_date <= ?
FROM buffers b LEFT JOIN products p ON p.org = b.org AND p.product_id = b.product_id
	LEFT JOIN demand d ON d.org = b.org AND d.product_id = b.product_id AND d.location_id = b.location_id AND d.outstanding > 0
WHERE b.org = ? AND b.product_id = ? AND b.location_id = ?
ORDER BY d.due_date, d.order_id, d.line_number`,
	qOpenDemand: `
SELECT outstanding, due_date <= ? FROM demand
WHERE org = ? AND product_id = ? AND location_id = ? AND outstanding > 0
ORDER BY due_date, order_id, line_number`,
	qSaveEvaluation: `UPDATE buffers SET zone = ?, net_flow_position = ?, armed = ?, updated_at = ? WHERE org = ? AND product_id = ? AND location_id = ?`,
}

// statements are the store's prepared statements, by query.
type statements struct{ of [nQueries]*sql.Stmt }

// prepare prepares every query on db.
func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	st := &statements{}
	for q, text := range queries {
		s, err := db.PrepareContext(ctx, text)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("store: prepare %q: %w", text, err)
		}
		st.of[q] = s
	}
	return st, nil
}

// close closes the statements prepared so far.
func (st *statements) close() {
	for _, s := range st.of {
		if s != nil {
			_ = s.Close()
		}
	}
}
