package events

import "fmt"

// The downcaster of this case's pinned publish_version: while the ledger
// upgrades, billing sends version 1 of "billing.invoice.sent".

// downcastInvoiceSent drops the currency, which version 1 does not have; an
// invoice in another currency than the shop's of version 1 cannot be sent as
// one.
func downcastInvoiceSent(v InvoiceSent) (InvoiceSentV1, error) {
	if v.Currency != InvoiceSentCurrencyEur {
		return InvoiceSentV1{}, fmt.Errorf("version 1 has no currency, and %s is not the one it implies (EUR)", v.Currency)
	}
	return InvoiceSentV1{InvoiceID: v.InvoiceID, Amount: v.Amount}, nil
}
