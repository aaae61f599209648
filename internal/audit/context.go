package audit

import "context"

type eventsKey struct{}

// WithEvents marks a context as carrying the audit connector's events. The
// connector passes its events on with it, and the audit processor passes
// such a batch on as it is: the events are not stripped of their audit.*
// attributes nor dropped. A client cannot set a context value through OTLP,
// so look-alike records from outside are still stripped. A component that
// re-batches (the batch processor) starts a new context, so the audit
// processor must come before any such component in a pipeline that carries
// events.
func WithEvents(ctx context.Context) context.Context {
	return context.WithValue(ctx, eventsKey{}, true)
}

// IsEvents tells whether a context carries the audit connector's events.
func IsEvents(ctx context.Context) bool {
	v, _ := ctx.Value(eventsKey{}).(bool)
	return v
}
