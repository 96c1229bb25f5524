package events

// The upcasters eventgen cannot write, because the versions they join are
// incompatible by eventgen check's rules: the owner of each event writes them
// once, and the generated decoders call them.

// upcastSalesOrderCreatedV1 turns a version 1 sales order, which had one due
// date for the whole order, into version 2, where each line has its own:
// every line gets the order's due date. Nothing else changed between the
// versions, and the result passes version 2's schema whenever v passes
// version 1's.
func upcastSalesOrderCreatedV1(v SalesOrderCreatedV1) (SalesOrderCreated, error) {
	lines := make([]SalesOrderLine, len(v.Lines))
	for i, l := range v.Lines {
		lines[i] = SalesOrderLine{
			LineNumber: l.LineNumber,
			Product:    l.Product,
			Quantity:   l.Quantity,
			DueDate:    v.DueDate,
			UnitPrice:  l.UnitPrice,
		}
	}
	return SalesOrderCreated{
		SalesOrderID:      v.SalesOrderID,
		OrderNumber:       v.OrderNumber,
		CustomerID:        v.CustomerID,
		CustomerReference: v.CustomerReference,
		LocationID:        v.LocationID,
		Lines:             lines,
		CreatedAt:         v.CreatedAt,
	}, nil
}
