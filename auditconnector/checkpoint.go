package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"
	"crypto/sha256"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadata"
	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// checkpointer is the checkpoint side of a chain: one checkpoint at a time.
type checkpointer struct {
	mu       sync.Mutex
	signer   *integrity.Signer
	keyErr   string         // the last error reading a replaced key, logged once
	first    uint64         // the first sequence number no checkpoint covers
	previous integrity.Hash // the hash of the last checkpoint's signed form
	enc      integrity.Encoder
}

// sign signs c with the key in force (its key id and algorithm set here)
// and returns the hash of its signed form (the next checkpoint's previous).
func (cp *checkpointer) sign(c *integrity.Checkpoint) (integrity.Hash, error) {
	c.KeyID, c.Algorithm, c.Signature = cp.signer.KeyID, cp.signer.Algorithm, nil
	body := pcommon.NewMap()
	c.Put(body)
	signed := integrity.SignedForm(&cp.enc, body)
	sig, err := cp.signer.Sign(signed)
	if err != nil {
		return integrity.Hash{}, err
	}
	c.Signature = sig
	return sha256.Sum256(signed), nil
}

// hashOf is the hash of a signed checkpoint's signed form.
func (cp *checkpointer) hashOf(c *integrity.Checkpoint) integrity.Hash {
	body := pcommon.NewMap()
	c.Put(body)
	return sha256.Sum256(integrity.SignedForm(&cp.enc, body))
}

// passCheckpoint passes a signed checkpoint on as a checkpoint record
// (event name audit.checkpoint, the chain's id as audit.chain.id, the body
// of integrity.Checkpoint), and counts it.
func (ch *chain) passCheckpoint(ctx context.Context, c *integrity.Checkpoint) error {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetEventName(integrity.CheckpointEventName)
	lr.SetTimestamp(c.Time)
	lr.SetObservedTimestamp(c.Time)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.Attributes().PutStr(integrity.AttrChainID, c.Chain)
	c.Put(lr.Body().SetEmptyMap())
	if err := ch.next.ConsumeLogs(audit.WithEvents(ctx), ld); err != nil {
		ch.telemetry.ConnectorAuditCheckpoints.Add(ctx, 1, resultFailure)
		return err
	}
	ch.telemetry.ConnectorAuditCheckpoints.Add(ctx, 1, resultSuccess)
	return nil
}

// checkpoint passes on the checkpoints of earlier chains that wait (with a
// storage, state.go), then signs this chain's head and passes its
// checkpoint on, when events came since the last one. It signs the
// canonical form of its body without the signature. The key file is read
// again first: a replaced key signs from now on (the checkpoint names its
// key id); an unusable one keeps the last. Only a checkpoint that was
// accepted moves the next one's first number; a refused one is made again,
// wider, next time. With a storage, the checkpoint is in the state while it
// is passed on (a restart passes it again, unchanged), and what it covers
// once it was accepted.
func (ch *chain) checkpoint(ctx context.Context) error {
	cp := &ch.cp
	cp.mu.Lock()
	defer cp.mu.Unlock()
	endErr := ch.passEndings(ctx)
	ch.mu.Lock()
	last, head := ch.seq, ch.head
	withdrawn := append([]integrity.Range(nil), ch.withdrawn...)
	ch.mu.Unlock()
	if last < cp.first {
		return endErr
	}
	if s, err := integrity.LoadSigner(ch.keyFile); err == nil {
		cp.signer, cp.keyErr = s, ""
	} else if err.Error() != cp.keyErr {
		cp.keyErr = err.Error()
		ch.logger.Warn("the replaced checkpoint key is unusable; signing with the last good one", zap.String("file", ch.keyFile), zap.Error(err))
	}
	c := integrity.Checkpoint{
		Chain: ch.id, First: cp.first, Last: last, Head: head, Previous: cp.previous,
		Time: pcommon.NewTimestampFromTime(ch.now()), Withdrawn: withdrawn, Predecessor: ch.predecessor,
	}
	previous, err := cp.sign(&c)
	if err != nil {
		ch.telemetry.ConnectorAuditCheckpoints.Add(ctx, 1, resultFailure)
		return err
	}
	if ch.store != nil {
		saved := saveCheckpoint(&c)
		ch.mu.Lock()
		ch.pendingCP = &saved
		gen := ch.changed()
		ch.mu.Unlock()
		if err := ch.save(ctx, gen); err != nil {
			ch.mu.Lock()
			ch.pendingCP = nil
			ch.mu.Unlock()
			return err
		}
	}
	if err := ch.passCheckpoint(ctx, &c); err != nil {
		ch.mu.Lock()
		ch.pendingCP = nil // made again, wider; a restart before then passes it again, which is still true
		ch.mu.Unlock()
		return err
	}
	cp.first, cp.previous = last+1, previous
	ch.covered.Store(last)
	ch.mu.Lock()
	ch.withdrawn = append(ch.withdrawn[:0], ch.withdrawn[len(withdrawn):]...)
	ch.pendingCP, ch.savedCovered, ch.savedPrevious = nil, last, previous
	gen := ch.changed()
	ch.mu.Unlock()
	if err := ch.save(ctx, gen); err != nil {
		return err
	}
	return endErr
}
