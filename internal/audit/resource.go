package audit

import "github.com/otel-audit/auditprocessor/catalog"

// Resource is what a resource's attributes decide for all its records,
// worked out once per resource: the scoped catalogs its service.name
// selects (and their Scope, when no catalog is scoped by host), and the
// region on the resource with, per service, what it normalises to and
// whether the service sends events from there (filled for the first record
// that needs it, then reused).
type Resource struct {
	names selection
	scope *catalog.Scope // of names; only when no catalog has hosts
	raw   string
	n     int
	memo  [4]struct {
		svc   *service
		id    string
		sends bool
	}
}

func (r *Resource) of(svc *service) (id string, sends bool) {
	for i := 0; i < r.n; i++ {
		if r.memo[i].svc == svc {
			return r.memo[i].id, r.memo[i].sends
		}
	}
	id, sends = svc.region(r.raw)
	if r.n < len(r.memo) {
		r.memo[r.n].svc, r.memo[r.n].id, r.memo[r.n].sends = svc, id, sends
		r.n++
	}
	return id, sends
}
