package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otel-audit/auditprocessor/internal/audit"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// The hash chain (README "Verifiable events"). Each connector instance with
// integrity configured keeps one chain: every event it passes on gets the
// chain's id, the next sequence number and the chain hash after it
// (integrity.Link), so that events from every pipeline and goroutine that
// feed the instance form one total order. The event's canonical form is
// written and hashed before the lock (the costly part, in parallel); under
// the lock each event costs one SHA-256 of 128 bytes. Checkpoints
// (checkpoint.go) sign the chain's head every CheckpointEvents events or
// CheckpointInterval.

// chain is the state of one hash chain.
type chain struct {
	id       string
	next     consumer.Logs
	every    uint64
	interval time.Duration
	keyFile  string
	logger   *zap.Logger
	now      func() time.Time

	mu        sync.Mutex // the chain: seq, head, withdrawn
	seq       uint64     // the last sequence number given
	head      integrity.Hash
	withdrawn []integrity.Range // refused by the pipeline after chaining, for the next checkpoint

	covered atomic.Uint64 // the last sequence number a checkpoint covers

	cp checkpointer

	stop chan struct{}
	done chan struct{}
}

// hashes are the per-batch digest slices, reused.
var hashes = sync.Pool{New: func() any { return new([]integrity.Hash) }}

// newChain starts a chain: a new id; the signing key read (its errors name
// the configuration key and the file).
func newChain(cfg *IntegrityConfig, next consumer.Logs, logger *zap.Logger) (*chain, error) {
	signer, err := integrity.LoadSigner(cfg.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("integrity::private_key_file: %w", err)
	}
	id, err := newChainID()
	if err != nil {
		return nil, err
	}
	ch := &chain{
		id: id, next: next, keyFile: cfg.PrivateKeyFile, logger: logger, now: time.Now,
		every: DefaultCheckpointEvents, interval: DefaultCheckpointInterval,
	}
	if cfg.CheckpointEvents > 0 {
		ch.every = uint64(cfg.CheckpointEvents)
	}
	if cfg.CheckpointInterval > 0 {
		ch.interval = cfg.CheckpointInterval
	}
	ch.cp.signer, ch.cp.first = signer, 1
	return ch, nil
}

// newChainID is a random (version 4) UUID.
func newChainID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

// seal chains the events of out, in order, and writes their integrity
// attributes; it returns the range of sequence numbers they got and the
// hash after the last.
func (ch *chain) seal(out plog.Logs) (first, last uint64, head integrity.Hash) {
	hp := hashes.Get().(*[]integrity.Hash)
	h := (*hp)[:0]
	e := encoders.Get().(*integrity.Encoder)
	for _, rl := range out.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				h = append(h, e.Digest(lr))
			}
		}
	}
	encoders.Put(e)

	ch.mu.Lock()
	first = ch.seq + 1
	for i := range h {
		ch.seq++
		ch.head = integrity.Link(ch.id, ch.seq, &ch.head, &h[i])
		h[i] = ch.head
	}
	last, head = ch.seq, ch.head
	ch.mu.Unlock()

	i := 0
	for _, rl := range out.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				a := lr.Attributes()
				a.PutStr(integrity.AttrChainID, ch.id)
				a.PutInt(integrity.AttrChainSeq, int64(first)+int64(i))
				a.PutStr(integrity.AttrChainHash, h[i].String())
				i++
			}
		}
	}
	*hp = h
	hashes.Put(hp)
	return first, last, head
}

// pass chains the events of out and passes them on. Events the pipeline
// refuses keep their sequence numbers (later events are already chained
// after them): the next checkpoint names them as withdrawn, with the hash
// after them, so that a verifier continues over them; the sender's retry
// makes them again, under new numbers and the same event ids. When the
// events cover checkpoint_events since the last checkpoint, a checkpoint
// follows them.
func (ch *chain) pass(ctx context.Context, out plog.Logs) error {
	first, last, head := ch.seal(out)
	err := ch.next.ConsumeLogs(audit.WithEvents(ctx), out)
	if err != nil {
		ch.mu.Lock()
		// Refusals come in runs (a full queue refuses every batch until it
		// drains): a range that follows the last one extends it.
		if n := len(ch.withdrawn); n > 0 && ch.withdrawn[n-1].To+1 == first {
			ch.withdrawn[n-1].To, ch.withdrawn[n-1].Hash = last, head
		} else {
			ch.withdrawn = append(ch.withdrawn, integrity.Range{From: first, To: last, Hash: head})
		}
		ch.mu.Unlock()
		return err
	}
	if last >= ch.covered.Load()+ch.every {
		if cerr := ch.checkpoint(ctx); cerr != nil {
			// The events were accepted: the sender must not retry them. The
			// next checkpoint covers these too.
			ch.logger.Warn("audit checkpoint not passed on; the next one covers its events", zap.Error(cerr))
		}
	}
	return nil
}

// start makes a checkpoint every interval while events came since the last.
func (ch *chain) start() {
	ch.stop, ch.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ch.done)
		t := time.NewTicker(ch.interval)
		defer t.Stop()
		for {
			select {
			case <-ch.stop:
				return
			case <-t.C:
				if err := ch.checkpoint(context.Background()); err != nil {
					ch.logger.Warn("audit checkpoint not passed on; the next one covers its events", zap.Error(err))
				}
			}
		}
	}()
}

// shutdown stops the ticker and signs the tail.
func (ch *chain) shutdown(ctx context.Context) {
	if ch.stop != nil {
		close(ch.stop)
		<-ch.done
		ch.stop = nil
	}
	if err := ch.checkpoint(ctx); err != nil {
		ch.logger.Warn("the last audit checkpoint was not passed on: the chain ends with an unsigned tail", zap.Error(err))
	}
}
