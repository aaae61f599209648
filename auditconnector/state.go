package auditconnector // import "github.com/otel-audit/auditprocessor/auditconnector"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otel-audit/auditprocessor/internal/integrity"
)

// The chain's state across restarts (README "Restarts"). With
// integrity.storage, a chain keeps its state in a storage extension
// (file_storage): its id, its last sequence number and head, what its last
// accepted checkpoint covers and that checkpoint's hash, the events the
// pipeline refused (withdrawn), and the events that left the connector and
// are not yet known to be accepted (open). It is written before a batch's
// events leave the connector, and again once the pipeline accepted them,
// before the sender is answered; writes of concurrent batches are taken
// together (one write covers every change made before it).
//
// A restarted collector does not continue the chain it finds: it starts a
// new one, and closes the old one with a signed checkpoint that covers the
// old chain's last events and names the new chain (successor); every
// checkpoint of the new chain names the old one (predecessor). So a chain
// id is never used by two processes (a state restored from a backup cannot
// fork a chain), and `verify` shows the links. Events that were open at the
// crash are listed as withdrawn in the closing checkpoint: their sender had
// no answer and sends them again (the new chain numbers them, with the same
// event ids); if they were queued before the crash, they arrive under their
// old numbers too and link as usual. Events the state records as accepted
// are never withdrawn: if the backend lacks them, verify reports them
// missing.

// stateKey is the storage key of a chain's state.
const stateKey = "chain"

// stateVersion is the version of savedState's form.
const stateVersion = 1

// maxEndings bounds the closing checkpoints of earlier chains a chain keeps
// until the pipeline accepts them (a collector restarting while its
// pipeline refuses everything).
const maxEndings = 64

// savedRange is an integrity.Range in the state.
type savedRange struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	Hash string `json:"hash"`
}

// savedCheckpoint is a signed checkpoint in the state: passed on, or to
// pass on, and not yet known to be accepted. A restart passes it again,
// unchanged: a verifier takes the same checkpoint twice as one.
type savedCheckpoint struct {
	Chain       string       `json:"chain"`
	First       uint64       `json:"first"`
	Last        uint64       `json:"last"`
	Head        string       `json:"head"`
	Previous    string       `json:"previous"`
	KeyID       string       `json:"key_id"`
	Algorithm   string       `json:"algorithm"`
	Time        uint64       `json:"time"`
	Withdrawn   []savedRange `json:"withdrawn,omitempty"`
	Predecessor string       `json:"predecessor,omitempty"`
	Successor   string       `json:"successor,omitempty"`
	Signature   []byte       `json:"signature"`
}

// savedState is what the storage keeps of a chain.
type savedState struct {
	Version     int          `json:"version"`
	Chain       string       `json:"chain"`
	Seq         uint64       `json:"seq"`
	Head        string       `json:"head"`
	Covered     uint64       `json:"covered"`  // the last number an accepted checkpoint covers
	Previous    string       `json:"previous"` // that checkpoint's hash
	Predecessor string       `json:"predecessor,omitempty"`
	Withdrawn   []savedRange `json:"withdrawn,omitempty"`
	Open        []savedRange `json:"open,omitempty"`
	// Checkpoint is this chain's checkpoint being passed on.
	Checkpoint *savedCheckpoint `json:"checkpoint,omitempty"`
	// Endings are checkpoints of earlier chains (their closing checkpoints,
	// and a checkpoint of theirs that was being passed on when they ended),
	// in order, until the pipeline accepts them.
	Endings []savedCheckpoint `json:"endings,omitempty"`
}

// openRange is a batch's events that left (or are leaving) the connector,
// not yet accepted nor refused.
type openRange struct {
	from, to uint64
	hash     integrity.Hash
}

func saveRanges(rs []integrity.Range) []savedRange {
	out := make([]savedRange, len(rs))
	for i, r := range rs {
		out[i] = savedRange{From: r.From, To: r.To, Hash: r.Hash.String()}
	}
	return out
}

func loadRanges(rs []savedRange, upTo uint64) ([]integrity.Range, error) {
	out := make([]integrity.Range, len(rs))
	for i, r := range rs {
		h, ok := integrity.ParseHash(r.Hash)
		if !ok || r.From < 1 || r.To < r.From || r.To > upTo {
			return nil, fmt.Errorf("range %d-%d is unusable", r.From, r.To)
		}
		out[i] = integrity.Range{From: r.From, To: r.To, Hash: h}
	}
	return out, nil
}

func saveCheckpoint(c *integrity.Checkpoint) savedCheckpoint {
	return savedCheckpoint{
		Chain: c.Chain, First: c.First, Last: c.Last, Head: c.Head.String(), Previous: c.Previous.String(),
		KeyID: c.KeyID, Algorithm: c.Algorithm, Time: uint64(c.Time), Withdrawn: saveRanges(c.Withdrawn),
		Predecessor: c.Predecessor, Successor: c.Successor, Signature: c.Signature,
	}
}

func (s *savedCheckpoint) load() (integrity.Checkpoint, error) {
	head, ok1 := integrity.ParseHash(s.Head)
	prev, ok2 := integrity.ParseHash(s.Previous)
	w, err := loadRanges(s.Withdrawn, s.Last)
	if !ok1 || !ok2 || err != nil || s.Chain == "" || len(s.Signature) == 0 {
		return integrity.Checkpoint{}, errors.New("a saved checkpoint is unusable")
	}
	return integrity.Checkpoint{
		Chain: s.Chain, First: s.First, Last: s.Last, Head: head, Previous: prev, KeyID: s.KeyID,
		Algorithm: s.Algorithm, Time: pcommon.Timestamp(s.Time), Withdrawn: w,
		Predecessor: s.Predecessor, Successor: s.Successor, Signature: s.Signature,
	}, nil
}

// snapshotLocked is the chain's state; ch.sealing and ch.mu are held, so
// that every number sealed is accepted, open or withdrawn.
func (ch *chain) snapshotLocked() savedState {
	s := savedState{
		Version: stateVersion, Chain: ch.id, Seq: ch.seq, Head: ch.head.String(),
		Covered: ch.savedCovered, Previous: ch.savedPrevious.String(), Predecessor: ch.predecessor,
		Withdrawn: saveRanges(ch.withdrawn), Checkpoint: ch.pendingCP,
		Endings: slices.Clone(ch.endings),
	}
	if len(ch.open) > 0 {
		s.Open = make([]savedRange, len(ch.open))
		for i, o := range ch.open {
			s.Open[i] = savedRange{From: o.from, To: o.to, Hash: o.hash.String()}
		}
	}
	return s
}

// changed notes a change of the state and returns its generation (for
// save); ch.mu is held.
func (ch *chain) changed() uint64 {
	ch.gen++
	return ch.gen
}

// save writes the state, unless a write since the change of generation gen
// took it already. Without a storage it does nothing.
func (ch *chain) save(ctx context.Context, gen uint64) error {
	if ch.store == nil {
		return nil
	}
	ch.saveMu.Lock()
	defer ch.saveMu.Unlock()
	if ch.savedGen >= gen {
		return nil
	}
	ch.sealing.Lock()
	ch.mu.Lock()
	s, g := ch.snapshotLocked(), ch.gen
	ch.mu.Unlock()
	ch.sealing.Unlock()
	data, err := json.Marshal(&s)
	if err == nil {
		err = ch.store.Set(ctx, stateKey, data)
	}
	if err != nil {
		ch.telemetry.ConnectorAuditChainStateWrites.Add(ctx, 1, resultFailure)
		return fmt.Errorf("the audit chain's state was not saved (integrity::storage): %w", err)
	}
	ch.savedGen = g
	ch.telemetry.ConnectorAuditChainStateWrites.Add(ctx, 1, resultSuccess)
	return nil
}

// openStorage finds the storage extension integrity.storage names and its
// client for this chain; its errors name the key.
func (ch *chain) openStorage(ctx context.Context, host component.Host) (storage.Client, error) {
	ext, ok := host.GetExtensions()[*ch.storageID]
	if !ok {
		return nil, fmt.Errorf("integrity::storage: extension %q is not configured (service::extensions)", ch.storageID.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("integrity::storage: extension %q is not a storage extension", ch.storageID.String())
	}
	client, err := se.GetClient(ctx, component.KindConnector, ch.componentID, ch.edge)
	if err != nil {
		return nil, fmt.Errorf("integrity::storage: %s: %w", ch.storageID.String(), err)
	}
	return client, nil
}

// restore reads the state the last process left, and starts this
// process's chain from it: the old chain is closed by a signed checkpoint
// naming this chain, which names the old one. A chain that had numbered no
// event is kept as it is (nothing of it left the connector). The state is
// written before the start ends; the closing checkpoints are passed on
// first, and again at each checkpoint while the pipeline refuses them.
func (ch *chain) restore(ctx context.Context, host component.Host) error {
	client, err := ch.openStorage(ctx, host)
	if err != nil {
		return err
	}
	data, err := client.Get(ctx, stateKey)
	if err != nil {
		_ = client.Close(ctx)
		return fmt.Errorf("integrity::storage: %s: %w", ch.storageID.String(), err)
	}
	ch.store = client
	if data != nil {
		if err := ch.follow(data); err != nil {
			// Bad data: the collector still starts; its chain names no
			// predecessor, which verify shows.
			ch.logger.Error("the saved audit chain state is unusable; a new chain starts that names none",
				zap.String("storage", ch.storageID.String()), zap.Error(err))
		}
	}
	ch.mu.Lock()
	gen := ch.changed()
	ch.mu.Unlock()
	if err := ch.save(ctx, gen); err != nil {
		return fmt.Errorf("integrity::storage: %w", err)
	}
	if err := ch.passEndings(ctx); err != nil {
		ch.logger.Warn("the closing checkpoint of the chain before the restart was not passed on; it is tried again at each checkpoint", zap.Error(err))
	}
	return nil
}

// follow starts this chain after the saved one.
func (ch *chain) follow(data []byte) error {
	var s savedState
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	if s.Version != stateVersion || s.Chain == "" || s.Covered > s.Seq {
		return fmt.Errorf("state of version %d, chain %q, seq %d, covered %d", s.Version, s.Chain, s.Seq, s.Covered)
	}
	head, ok1 := integrity.ParseHash(s.Head)
	previous, ok2 := integrity.ParseHash(s.Previous)
	if !ok1 || !ok2 {
		return errors.New("a hash of the state is unusable")
	}
	withdrawn, err := loadRanges(s.Withdrawn, s.Seq)
	if err != nil {
		return err
	}
	open, err := loadRanges(s.Open, s.Seq)
	if err != nil {
		return err
	}
	endings := make([]integrity.Checkpoint, 0, len(s.Endings)+2)
	for i := range s.Endings {
		c, err := s.Endings[i].load()
		if err != nil {
			return err
		}
		endings = append(endings, c)
	}
	if s.Seq == 0 && s.Checkpoint == nil {
		// Nothing of the saved chain left the connector: keep it.
		ch.id, ch.predecessor = s.Chain, s.Predecessor
		ch.setEndings(endings)
		return nil
	}
	first := s.Covered + 1
	if s.Checkpoint != nil {
		c, err := s.Checkpoint.load()
		if err != nil {
			return err
		}
		endings = append(endings, c)
		first, previous = c.Last+1, ch.cp.hashOf(&c)
	}
	// Open at the crash: withdrawn (their senders had no answer).
	withdrawn = append(withdrawn, open...)
	slices.SortFunc(withdrawn, func(a, b integrity.Range) int { return cmpUint(a.From, b.From) })
	closing := integrity.Checkpoint{
		Chain: s.Chain, First: first, Last: s.Seq, Head: head, Previous: previous,
		Time: pcommon.NewTimestampFromTime(ch.now()), Withdrawn: withdrawn,
		Predecessor: s.Predecessor, Successor: ch.id,
	}
	if _, err := ch.cp.sign(&closing); err != nil {
		return err
	}
	ch.predecessor = s.Chain
	ch.setEndings(append(endings, closing))
	return nil
}

func (ch *chain) setEndings(cs []integrity.Checkpoint) {
	if len(cs) > maxEndings {
		ch.logger.Error("too many closing checkpoints of earlier chains wait for the pipeline; the oldest are dropped (verify shows those chains unclosed)",
			zap.Int("dropped", len(cs)-maxEndings))
		cs = cs[len(cs)-maxEndings:]
	}
	ch.endings = make([]savedCheckpoint, len(cs))
	for i := range cs {
		ch.endings[i] = saveCheckpoint(&cs[i])
	}
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// passEndings passes on the checkpoints of earlier chains, in order; each
// accepted one leaves the state. ch.cp.mu is held by the caller or not
// needed (at start).
func (ch *chain) passEndings(ctx context.Context) error {
	for {
		ch.mu.Lock()
		if len(ch.endings) == 0 {
			ch.mu.Unlock()
			return nil
		}
		s := ch.endings[0]
		ch.mu.Unlock()
		c, err := s.load()
		if err != nil { // not expected: made or read by this process
			return err
		}
		if err := ch.passCheckpoint(ctx, &c); err != nil {
			return err
		}
		ch.mu.Lock()
		ch.endings = ch.endings[1:]
		gen := ch.changed()
		ch.mu.Unlock()
		if err := ch.save(ctx, gen); err != nil {
			return err
		}
	}
}
