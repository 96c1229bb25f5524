package bus

import (
	"context"
	"fmt"
)

// whileAllowed runs call with a context that ends as soon as the server
// refuses a publish of this connection to subject, instead of letting a
// request the server never answers wait for its deadline. When that
// happened and call failed, it returns an error wrapping
// ErrPermissionDenied and the server's error; otherwise call's error.
func (c *Conn) whileAllowed(ctx context.Context, subject string, call func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := c.watchDenied(subject, cancel)
	err := call(ctx)
	if denied := c.unwatch(w); denied != nil && err != nil {
		return fmt.Errorf("%w: %w", ErrPermissionDenied, denied)
	}
	return err
}
