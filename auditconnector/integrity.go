package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadata"
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

	telemetry *metadata.TelemetryBuilder

	mu        sync.Mutex // the chain: seq, head, withdrawn, and the state below
	seq       uint64     // the last sequence number given
	head      integrity.Hash
	withdrawn []integrity.Range // refused by the pipeline after chaining, for the next checkpoint

	covered atomic.Uint64 // the last sequence number a checkpoint covers

	cp checkpointer

	// Across restarts (state.go): the storage extension integrity.storage
	// names, this instance's component ID and edge (its storage name), the
	// client (nil without a storage), and the chain this one follows.
	storageID   *component.ID
	componentID component.ID
	edge        string
	store       storage.Client
	predecessor string
	// sealing is held (shared) from a batch's seal until its range is
	// open, and exclusively while the state is read for a write, so that
	// every number sealed is accepted, open or withdrawn in what is saved.
	sealing sync.RWMutex
	// Under mu: the batches that left and were not yet accepted or refused;
	// what the last accepted checkpoint covers and its hash; this chain's
	// checkpoint being passed on; checkpoints of earlier chains to pass on;
	// the generation of these changes.
	open          []openRange
	savedCovered  uint64
	savedPrevious integrity.Hash
	pendingCP     *savedCheckpoint
	endings       []savedCheckpoint
	gen           uint64
	// saveMu orders the writes; savedGen is the generation last written.
	saveMu   sync.Mutex
	savedGen uint64

	stop chan struct{}
	done chan struct{}
}

// The result attribute of the checkpoints' and the state writes' counters.
var (
	resultSuccess = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "success")))
	resultFailure = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "failure")))
)

// hashes are the per-batch digest slices, reused.
var hashes = sync.Pool{New: func() any { return new([]integrity.Hash) }}

// newChain starts a chain: a new id; the signing key read (its errors name
// the configuration key and the file).
func newChain(set connector.Settings, cfg *IntegrityConfig, next consumer.Logs, t *metadata.TelemetryBuilder) (*chain, error) {
	signer, err := integrity.LoadSigner(cfg.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("integrity::private_key_file: %w", err)
	}
	id, err := newChainID()
	if err != nil {
		return nil, err
	}
	ch := &chain{
		id: id, next: next, keyFile: cfg.PrivateKeyFile, logger: set.Logger, now: time.Now,
		every: DefaultCheckpointEvents, interval: DefaultCheckpointInterval, telemetry: t,
		storageID: cfg.Storage, componentID: set.ID, edge: "events",
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
// follows them. With a storage (state.go), the state is written before the
// events leave (a failed write refuses them: withdrawn) and once they were
// accepted, before the sender is answered.
func (ch *chain) pass(ctx context.Context, out plog.Logs) error {
	if ch.store != nil {
		ch.sealing.RLock()
	}
	first, last, head := ch.seal(out)
	ch.telemetry.ConnectorAuditEventsChained.Add(ctx, int64(last-first+1))
	if ch.store != nil {
		ch.mu.Lock()
		ch.open = append(ch.open, openRange{first, last, head})
		gen := ch.changed()
		ch.mu.Unlock()
		ch.sealing.RUnlock()
		if err := ch.save(ctx, gen); err != nil {
			ch.withdraw(first, last, head)
			return err
		}
	}
	err := ch.next.ConsumeLogs(audit.WithEvents(ctx), out)
	if err != nil {
		ch.withdraw(first, last, head)
		return err
	}
	if ch.store != nil {
		ch.mu.Lock()
		ch.close(first)
		gen := ch.changed()
		ch.mu.Unlock()
		if err := ch.save(ctx, gen); err != nil {
			// Accepted, but not known to be after a crash: the sender
			// retries (a duplicate under new numbers); the next write
			// records them.
			return err
		}
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

// withdraw notes a batch the pipeline refused. Refusals come in runs (a
// full queue refuses every batch until it drains): a range that follows the
// last one extends it.
func (ch *chain) withdraw(first, last uint64, head integrity.Hash) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.close(first)
	if n := len(ch.withdrawn); n > 0 && ch.withdrawn[n-1].To+1 == first {
		ch.withdrawn[n-1].To, ch.withdrawn[n-1].Hash = last, head
	} else {
		ch.withdrawn = append(ch.withdrawn, integrity.Range{From: first, To: last, Hash: head})
	}
	ch.changed()
}

// close takes the batch that starts at first out of the open ones; ch.mu
// is held.
func (ch *chain) close(first uint64) {
	if i := slices.IndexFunc(ch.open, func(o openRange) bool { return o.from == first }); i >= 0 {
		ch.open = slices.Delete(ch.open, i, i+1)
	}
}

// start restores the chain's state when a storage is configured (state.go),
// then makes a checkpoint every interval while events came since the last.
func (ch *chain) start(ctx context.Context, host component.Host) error {
	if ch.storageID != nil {
		if err := ch.restore(ctx, host); err != nil {
			return err
		}
	}
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
	return nil
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
	if ch.store != nil {
		if err := ch.store.Close(ctx); err != nil {
			ch.logger.Warn("closing the audit chain's storage", zap.Error(err))
		}
		ch.store = nil
	}
}
