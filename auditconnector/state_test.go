package auditconnector

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otel-audit/auditprocessor/auditconnector/internal/metadatatest"
	"github.com/otel-audit/auditprocessor/internal/audittest"
	"github.com/otel-audit/auditprocessor/internal/integrity"
)

var storageID = component.MustNewIDWithName("file_storage", "chain")

func storageHost(s *audittest.MemStorage) audittest.Host {
	return audittest.Host{storageID: s.Extension()}
}

// holding passes batches on to its sink, except while hold is set: then
// each batch of events is kept (store) or not, and the call waits until
// the test releases it, as a pipeline does that a crash interrupts.
type holding struct {
	consumertest.LogsSink
	hold    atomic.Bool
	store   atomic.Bool
	held    chan struct{}
	release chan error
}

func newHolding() *holding {
	return &holding{held: make(chan struct{}, 8), release: make(chan error)}
}

func (h *holding) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if !h.hold.Load() || ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).EventName() != integrity.EventName {
		return h.LogsSink.ConsumeLogs(ctx, ld)
	}
	if h.store.Load() {
		if err := h.LogsSink.ConsumeLogs(ctx, ld); err != nil {
			return err
		}
	}
	h.held <- struct{}{}
	return <-h.release
}

func storageConnector(t *testing.T, key string, next *holding, tel *componenttest.Telemetry) *auditConnector {
	t.Helper()
	cfg := testConfig()
	cfg.Integrity = &IntegrityConfig{PrivateKeyFile: key, CheckpointEvents: 1000, CheckpointInterval: time.Hour, Storage: &storageID}
	c, err := newConnector(metadatatest.NewSettings(tel), cfg, next)
	require.NoError(t, err)
	c.now = func() time.Time { return fixedNow }
	return c
}

// crash stops a connector as SIGKILL would: no checkpoint, nothing
// written; only its goroutines end (the test's leak check).
func crash(c *auditConnector) {
	close(c.chain.stop)
	<-c.chain.done
	c.chain.stop = nil
	c.release()
	c.live.Shutdown()
	c.live.Release()
}

func verifyAll(pubs []integrity.PublicKey, docs ...[]plog.Logs) ([]integrity.ChainReport, []integrity.RestartLink) {
	v := integrity.NewVerifier(pubs)
	for _, d := range docs {
		for _, ld := range d {
			v.Add(ld)
		}
	}
	return v.Finish(), v.Links()
}

func byChain(reps []integrity.ChainReport) map[string]integrity.ChainReport {
	m := map[string]integrity.ChainReport{}
	for _, r := range reps {
		m[r.Chain] = r
	}
	return m
}

// withoutRecord returns a deep copy of docs without the records for which
// drop holds.
func withoutRecord(docs []plog.Logs, drop func(plog.LogRecord) bool) ([]plog.Logs, int) {
	out, n := make([]plog.Logs, len(docs)), 0
	for i, ld := range docs {
		out[i] = plog.NewLogs()
		ld.CopyTo(out[i])
		for _, rl := range out[i].ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
					if drop(lr) {
						n++
						return true
					}
					return false
				})
			}
		}
	}
	return out, n
}

func seqOf(lr plog.LogRecord) int64 {
	v, _ := lr.Attributes().Get(integrity.AttrChainSeq)
	return v.Int()
}

// TestChainRestart: a collector with its chain state in a storage
// extension is killed while two batches are on their way to the pipeline:
// one had not been queued, one had. The restarted collector closes the old
// chain with a signed checkpoint that names its new chain (which names the
// old one), and lists both batches as withdrawn; their senders send them
// again. verify finds nothing missing and reports the link. An event the
// old process had seen accepted and that the backend lacks is still
// reported missing; without the closing checkpoint, the link is broken.
func TestChainRestart(t *testing.T) {
	key, pubs := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	mem := audittest.NewMemStorage()
	before := newHolding()
	a := storageConnector(t, key, before, componenttest.NewTelemetry())
	require.NoError(t, a.Start(t.Context(), storageHost(mem)))
	per := int64(eventsPerBatch(t))

	require.NoError(t, a.ConsumeTraces(t.Context(), statusTraces())) // 1
	require.NoError(t, a.ConsumeTraces(t.Context(), statusTraces())) // 2
	require.NoError(t, a.chain.checkpoint(t.Context()))
	require.NoError(t, a.ConsumeTraces(t.Context(), statusTraces())) // 3: accepted after the checkpoint

	// 4: not queued at the crash; 5: queued. Neither sender had an answer.
	before.hold.Store(true)
	var wg sync.WaitGroup
	for _, queued := range []bool{false, true} {
		before.store.Store(queued)
		wg.Go(func() { _ = a.ConsumeTraces(context.Background(), statusTraces()) })
		<-before.held
	}
	atCrash := mem.Snapshot()
	before.release <- errors.New("killed")
	before.release <- errors.New("killed")
	wg.Wait()
	crash(a)

	after := newHolding()
	b := storageConnector(t, key, after, componenttest.NewTelemetry())
	require.NoError(t, b.Start(t.Context(), storageHost(atCrash)))
	require.NotEqual(t, a.chain.id, b.chain.id, "a restart starts a new chain")
	// The senders of 4 and 5 retry; a new request comes.
	for range 3 {
		require.NoError(t, b.ConsumeTraces(t.Context(), statusTraces()))
	}
	require.NoError(t, b.Shutdown(t.Context()))

	backend := [][]plog.Logs{before.AllLogs(), after.AllLogs()}
	reps, links := verifyAll(pubs, backend...)
	require.Len(t, reps, 2)
	old, next := byChain(reps)[a.chain.id], byChain(reps)[b.chain.id]
	assert.False(t, old.Failed(), "%+v", old)
	assert.False(t, next.Failed(), "%+v", next)
	assert.Equal(t, 4*per, int64(old.Events), "batches 1, 2, 3 and 5 reached the backend")
	assert.Equal(t, 4*per, int64(old.Verified))
	assert.Equal(t, []integrity.Range{{From: uint64(3*per + 1), To: uint64(4 * per)}, {From: uint64(4*per + 1), To: uint64(5 * per)}},
		withoutHash(old.Withdrawn), "both batches open at the crash are withdrawn (the order of 4 and 5 is the sealing order)")
	assert.Equal(t, uint64(5*per), old.LastSigned, "the closing checkpoint signs the old chain to its end")
	assert.Zero(t, old.UnsignedTail)
	assert.Equal(t, b.chain.id, old.Successor)
	assert.Equal(t, a.chain.id, next.Predecessor)
	assert.Equal(t, 3*per, int64(next.Verified))
	assert.Equal(t, []integrity.RestartLink{{From: a.chain.id, To: b.chain.id, Last: uint64(5 * per)}}, links)

	// An accepted event lost at the backend (the last of batch 3) is
	// missing, named by its number: a crash hides no real loss.
	lost := 3 * per
	docs, n := withoutRecord(before.AllLogs(), func(lr plog.LogRecord) bool {
		return lr.EventName() == integrity.EventName && seqOf(lr) == lost
	})
	require.Equal(t, 1, n)
	reps, _ = verifyAll(pubs, docs, after.AllLogs())
	old = byChain(reps)[a.chain.id]
	assert.True(t, old.Failed())
	assert.Equal(t, []integrity.Range{{From: uint64(lost), To: uint64(lost)}}, old.Missing)

	// Without the closing checkpoint: the old chain's last events are
	// unsigned, and the new chain's link is broken.
	docs, n = withoutRecord(after.AllLogs(), func(lr plog.LogRecord) bool {
		s, _ := lr.Body().Map().Get("successor")
		return lr.EventName() == integrity.CheckpointEventName && s.Str() != ""
	})
	require.Equal(t, 1, n)
	reps, links = verifyAll(pubs, before.AllLogs(), docs)
	old, next = byChain(reps)[a.chain.id], byChain(reps)[b.chain.id]
	assert.Equal(t, uint64(2*per), old.LastSigned)
	assert.Equal(t, uint64(3*per), old.UnsignedTail, "batches 3 and 5 (4 never arrived, and no checkpoint says why)")
	assert.True(t, next.Failed())
	assert.Equal(t, 1, next.BrokenRestartLinks)
	assert.Equal(t, []integrity.RestartLink{{From: a.chain.id, To: b.chain.id, Problem: integrity.LinkNoClosing}}, links)
}

// eventsPerBatch is the number of events statusTraces gives.
func eventsPerBatch(t testing.TB) int {
	t.Helper()
	sink := new(consumertest.LogsSink)
	c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), testConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, c.ConsumeTraces(context.Background(), statusTraces()))
	require.NoError(t, c.Shutdown(context.Background()))
	return sink.LogRecordCount()
}

// TestChainRestartCheckpointInFlight: killed while a checkpoint was on its
// way (the pipeline had queued it): the restarted collector passes the same
// checkpoint again before the closing one, and verify takes it once.
// Restarted again with no event in between, the chain it started is kept
// (nothing of it left the connector).
func TestChainRestartCheckpointInFlight(t *testing.T) {
	key, pubs := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	mem := audittest.NewMemStorage()
	before := newHolding()
	a := storageConnector(t, key, before, componenttest.NewTelemetry())
	require.NoError(t, a.Start(t.Context(), storageHost(mem)))
	require.NoError(t, a.ConsumeTraces(t.Context(), statusTraces()))

	var atCrash *audittest.MemStorage
	cp := &checkpointHold{holding: before}
	a.chain.next = cp
	cp.onCheckpoint = func() { atCrash = mem.Snapshot() }
	require.NoError(t, a.chain.checkpoint(t.Context()))
	crash(a)

	after := newHolding()
	b := storageConnector(t, key, after, componenttest.NewTelemetry())
	require.NoError(t, b.Start(t.Context(), storageHost(atCrash)))
	crash(b)
	again := newHolding()
	c := storageConnector(t, key, again, componenttest.NewTelemetry())
	require.NoError(t, c.Start(t.Context(), storageHost(atCrash)))
	assert.Equal(t, b.chain.id, c.chain.id, "a chain that numbered nothing is kept")
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, c.Shutdown(t.Context()))

	checkpoints := 0
	for _, ld := range after.AllLogs() {
		if ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).EventName() == integrity.CheckpointEventName {
			checkpoints++
		}
	}
	assert.Equal(t, 2, checkpoints, "the checkpoint in flight, again, and the closing one")
	reps, links := verifyAll(pubs, before.AllLogs(), after.AllLogs(), again.AllLogs())
	old, next := byChain(reps)[a.chain.id], byChain(reps)[c.chain.id]
	assert.False(t, old.Failed(), "%+v", old)
	assert.False(t, next.Failed(), "%+v", next)
	assert.Equal(t, 3, old.Checkpoints, "the same checkpoint twice (counted twice, linked once), and the closing one (with no event)")
	assert.Zero(t, old.BrokenLinks)
	assert.Equal(t, []integrity.RestartLink{{From: a.chain.id, To: c.chain.id, Last: old.LastSigned}}, links)
}

// checkpointHold passes everything on, and calls onCheckpoint once a
// checkpoint was queued, before answering: the moment of a crash.
type checkpointHold struct {
	*holding
	onCheckpoint func()
}

func (h *checkpointHold) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	err := h.holding.ConsumeLogs(ctx, ld)
	if ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).EventName() == integrity.CheckpointEventName && h.onCheckpoint != nil {
		h.onCheckpoint()
		h.onCheckpoint = nil
	}
	return err
}

// TestChainStorageErrors: integrity.storage naming an extension that is
// not configured, or one that is not a storage extension, fails the start
// naming the key; an unusable saved state starts a chain that names none.
func TestChainStorageErrors(t *testing.T) {
	key, _ := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	for _, tc := range []struct {
		host audittest.Host
		err  string
	}{
		{audittest.Host{}, `integrity::storage: extension "file_storage/chain" is not configured (service::extensions)`},
		{audittest.Host{storageID: &memClientless{}}, `integrity::storage: extension "file_storage/chain" is not a storage extension`},
	} {
		c := storageConnector(t, key, newHolding(), componenttest.NewTelemetry())
		assert.EqualError(t, c.Start(t.Context(), tc.host), tc.err)
		require.NoError(t, c.Shutdown(t.Context()))
	}

	mem := audittest.NewMemStorage()
	mem.Put("connector/audit/events/chain", []byte(`{"version":1,"chain":"x","seq":3,"head":"not hex"}`))
	c := storageConnector(t, key, newHolding(), componenttest.NewTelemetry())
	require.NoError(t, c.Start(t.Context(), storageHost(mem)))
	assert.Empty(t, c.chain.predecessor)
	require.NoError(t, c.Shutdown(t.Context()))
}

type memClientless struct {
	component.StartFunc
	component.ShutdownFunc
}

// TestChainMetrics: events chained, checkpoints passed on or refused, and
// the state's writes; a failed write refuses the batch, whose events are
// withdrawn.
func TestChainMetrics(t *testing.T) {
	key, pubs := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	mem := audittest.NewMemStorage()
	next := newHolding()
	c := storageConnector(t, key, next, tel)
	require.NoError(t, c.Start(t.Context(), storageHost(mem)))
	per := int64(eventsPerBatch(t))
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	mem.FailSet.Store(true)
	assert.ErrorContains(t, c.ConsumeTraces(t.Context(), statusTraces()), "the audit chain's state was not saved (integrity::storage): disk full")
	mem.FailSet.Store(false)
	require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
	c.chain.next = refuseCheckpoints{next}
	require.Error(t, c.chain.checkpoint(t.Context()))
	c.chain.next = next
	require.NoError(t, c.Shutdown(t.Context()))

	success := attribute.NewSet(attribute.String("result", "success"))
	failure := attribute.NewSet(attribute.String("result", "failure"))
	metadatatest.AssertEqualConnectorAuditEventsChained(t, tel, []metricdata.DataPoint[int64]{{Value: 3 * per}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualConnectorAuditCheckpoints(t, tel, []metricdata.DataPoint[int64]{
		{Attributes: success, Value: 1}, {Attributes: failure, Value: 1},
	}, metricdatatest.IgnoreTimestamp())
	// Writes: at start; before and after batches 1 and 3, before batch 2
	// (failed); around the checkpoint at shutdown (the refused one's first
	// write succeeded).
	metadatatest.AssertEqualConnectorAuditChainStateWrites(t, tel, []metricdata.DataPoint[int64]{
		{Attributes: success, Value: 8}, {Attributes: failure, Value: 1},
	}, metricdatatest.IgnoreTimestamp())

	reps, _ := verifyAll(pubs, next.AllLogs())
	require.Len(t, reps, 1)
	assert.False(t, reps[0].Failed(), "%+v", reps[0])
	assert.Equal(t, []integrity.Range{{From: uint64(per + 1), To: uint64(2 * per)}}, withoutHash(reps[0].Withdrawn))
}

// refuseCheckpoints refuses checkpoint records.
type refuseCheckpoints struct{ *holding }

func (r refuseCheckpoints) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).EventName() == integrity.CheckpointEventName {
		return errors.New("queue full")
	}
	return r.holding.ConsumeLogs(ctx, ld)
}

// TestChainStorageConcurrent: batches from many goroutines, each written
// into the state before and after the pipeline, form one chain; restarted
// from that state after a clean shutdown, the next chain closes it with a
// checkpoint that covers no event, and both verify, linked.
func TestChainStorageConcurrent(t *testing.T) {
	key, pubs := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	mem := audittest.NewMemStorage()
	sink := newHolding()
	a := storageConnector(t, key, sink, componenttest.NewTelemetry())
	a.chain.every = 7
	require.NoError(t, a.Start(t.Context(), storageHost(mem)))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				assert.NoError(t, a.ConsumeTraces(context.Background(), statusTraces()))
			}
		})
	}
	wg.Wait()
	require.NoError(t, a.Shutdown(t.Context()))

	b := storageConnector(t, key, sink, componenttest.NewTelemetry())
	require.NoError(t, b.Start(t.Context(), storageHost(mem)))
	require.NoError(t, b.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, b.Shutdown(t.Context()))

	per := uint64(eventsPerBatch(t))
	reps, links := verifyAll(pubs, sink.AllLogs())
	require.Len(t, reps, 2)
	for _, r := range reps {
		assert.False(t, r.Failed(), "%+v", r)
		assert.Zero(t, r.UnsignedTail)
		assert.Empty(t, r.Withdrawn)
	}
	old := byChain(reps)[a.chain.id]
	assert.Equal(t, 40*per, uint64(old.Verified))
	assert.Equal(t, []integrity.RestartLink{{From: a.chain.id, To: b.chain.id, Last: 40 * per}}, links)
}

// BenchmarkChainState: the connector with integrity, without a storage and
// with one (in memory: what the state's bookkeeping and encoding cost, not
// the disk), in one run. cpu-ns/event is the process's CPU time (other load
// on a shared machine inflates ns/op, not it).
func BenchmarkChainState(b *testing.B) {
	key, _ := writeKey(b, b.TempDir(), "key.pem", ed25519Key(b))
	for _, withStorage := range []bool{false, true} {
		name := "integrity"
		if withStorage {
			name = "integrity+storage"
		}
		b.Run(name, func(b *testing.B) {
			cfg := testConfig()
			cfg.Integrity = &IntegrityConfig{PrivateKeyFile: key, CheckpointInterval: time.Hour}
			var h component.Host = componenttest.NewNopHost()
			if withStorage {
				cfg.Integrity.Storage = &storageID
				h = storageHost(audittest.NewMemStorage())
			}
			c, err := newConnector(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, consumertest.NewNop())
			require.NoError(b, err)
			require.NoError(b, c.Start(context.Background(), h))
			td := statusTraces()
			per := float64(eventsPerBatch(b))
			b.ReportAllocs()
			cpu := audittest.CPUTime()
			for b.Loop() {
				_ = c.ConsumeTraces(context.Background(), td)
			}
			b.ReportMetric(float64((audittest.CPUTime()-cpu).Nanoseconds())/(float64(b.N)*per), "cpu-ns/event")
			require.NoError(b, c.Shutdown(context.Background()))
		})
	}
}

// TestChainRestartFork: two collectors started on copies of one state (a
// restored backup, a copied directory) each close the old chain naming
// their own: verify reports the fork and fails, where continuing the old
// chain would have given two different events one number.
func TestChainRestartFork(t *testing.T) {
	key, pubs := writeKey(t, t.TempDir(), "key.pem", ed25519Key(t))
	mem := audittest.NewMemStorage()
	sink := newHolding()
	a := storageConnector(t, key, sink, componenttest.NewTelemetry())
	require.NoError(t, a.Start(t.Context(), storageHost(mem)))
	require.NoError(t, a.ConsumeTraces(t.Context(), statusTraces()))
	require.NoError(t, a.Shutdown(t.Context()))
	backup := mem.Snapshot()

	var next []string
	for _, s := range []*audittest.MemStorage{mem, backup} {
		c := storageConnector(t, key, sink, componenttest.NewTelemetry())
		require.NoError(t, c.Start(t.Context(), storageHost(s)))
		require.NoError(t, c.ConsumeTraces(t.Context(), statusTraces()))
		require.NoError(t, c.Shutdown(t.Context()))
		next = append(next, c.chain.id)
	}
	reps, links := verifyAll(pubs, sink.AllLogs())
	require.Len(t, reps, 3)
	old := byChain(reps)[a.chain.id]
	assert.True(t, old.Failed(), "two closing checkpoints name two successors")
	assert.Equal(t, 1, old.BrokenRestartLinks)
	require.Len(t, links, 2)
	problems := []string{links[0].Problem, links[1].Problem}
	assert.ElementsMatch(t, []string{"", integrity.LinkFork}, problems, "one link agrees with the successor seen first, the other is a fork")
	assert.Equal(t, a.chain.id, links[0].From)
	assert.ElementsMatch(t, next, []string{links[0].To, links[1].To})
	for _, l := range links {
		forked := byChain(reps)[l.To]
		assert.Equal(t, l.Problem == integrity.LinkFork, forked.Failed(), "%s: the chain after a fork fails", l.To)
	}
}
