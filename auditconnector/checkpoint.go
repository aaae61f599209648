package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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

// checkpoint signs the chain's head and passes the checkpoint record on,
// when events came since the last one. The record (event name
// audit.checkpoint, the chain's id as audit.chain.id) has the body of
// integrity.Checkpoint, signed over its canonical form without the
// signature. The key file is read again first: a replaced key signs from
// now on (the checkpoint names its key id); an unusable one keeps the last.
// Only a checkpoint that was accepted moves the next one's first number; a
// refused one is made again, wider, next time.
func (ch *chain) checkpoint(ctx context.Context) error {
	cp := &ch.cp
	cp.mu.Lock()
	defer cp.mu.Unlock()
	ch.mu.Lock()
	last, head := ch.seq, ch.head
	withdrawn := append([]integrity.Range(nil), ch.withdrawn...)
	ch.mu.Unlock()
	if last < cp.first {
		return nil
	}
	if s, err := integrity.LoadSigner(ch.keyFile); err == nil {
		cp.signer, cp.keyErr = s, ""
	} else if err.Error() != cp.keyErr {
		cp.keyErr = err.Error()
		ch.logger.Warn("the replaced checkpoint key is unusable; signing with the last good one", zap.String("file", ch.keyFile), zap.Error(err))
	}
	now := pcommon.NewTimestampFromTime(ch.now())
	c := integrity.Checkpoint{
		Chain: ch.id, First: cp.first, Last: last, Head: head, Previous: cp.previous,
		KeyID: cp.signer.KeyID, Algorithm: cp.signer.Algorithm, Time: now, Withdrawn: withdrawn,
	}
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetEventName(integrity.CheckpointEventName)
	lr.SetTimestamp(now)
	lr.SetObservedTimestamp(now)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.Attributes().PutStr(integrity.AttrChainID, ch.id)
	body := lr.Body().SetEmptyMap()
	c.Put(body)
	signed := integrity.SignedForm(&cp.enc, body)
	sig, err := cp.signer.Sign(signed)
	if err != nil {
		return err
	}
	previous := sha256.Sum256(signed)
	body.PutStr("signature", base64.StdEncoding.EncodeToString(sig))
	if err := ch.next.ConsumeLogs(audit.WithEvents(ctx), ld); err != nil {
		return err
	}
	cp.first, cp.previous = last+1, previous
	ch.covered.Store(last)
	ch.mu.Lock()
	ch.withdrawn = append(ch.withdrawn[:0], ch.withdrawn[len(withdrawn):]...)
	ch.mu.Unlock()
	return nil
}
