package report

import "github.com/otel-audit/auditprocessor/internal/integrity"

// Verify is what auditcatalog verify reports of the audit connector's
// events: the shape of its --json output, and what its table prints.
type Verify struct {
	Chains []integrity.ChainReport `json:"chains"`
	// Links are the restarts the chains name (a collector's chain before a
	// restart and the one after it).
	Links                []integrity.RestartLink `json:"restart_links"`
	Unchained            int                     `json:"unchained_events"`
	MalformedCheckpoints int                     `json:"malformed_checkpoints"`
	MalformedInput       int                     `json:"malformed_input"`
}

// Failed tells whether verify exits 1: a look-alike, unreadable input, or
// a chain with a gap, an alteration, a bad checkpoint or a broken link.
func (r *Verify) Failed() bool {
	if r.Unchained > 0 || r.MalformedCheckpoints > 0 || r.MalformedInput > 0 {
		return true
	}
	for i := range r.Chains {
		if r.Chains[i].Failed() {
			return true
		}
	}
	return false
}
