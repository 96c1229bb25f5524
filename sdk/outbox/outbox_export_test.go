package outbox

// Pipeline reports what the running relay of o holds: the seq it
// reads after and how many rows it has in flight; running is false when no
// relay runs.
func Pipeline(o *Outbox) (after int64, inflight int, running bool) {
	o.pipeMu.Lock()
	defer o.pipeMu.Unlock()
	if o.pipe == nil {
		return 0, 0, false
	}
	return o.pipe.after, len(o.pipe.inflight), true
}
