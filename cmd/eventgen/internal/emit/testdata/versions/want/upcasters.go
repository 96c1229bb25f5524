package events

// The upcasters of this case that eventgen cannot write: the owner of
// "billing.invoice.sent" writes them once, and the generated decoder calls
// them.

// upcastInvoiceSentV1 gives a version 1 invoice, which had no currency, the
// shop's only currency of the time.
func upcastInvoiceSentV1(v InvoiceSentV1) (InvoiceSentV2, error) {
	return InvoiceSentV2{InvoiceID: v.InvoiceID, Amount: v.Amount, Currency: InvoiceSentCurrencyV2Eur}, nil
}
