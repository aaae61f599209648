package integrity

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
)

// EventName is the event name of the audit connector's events.
const EventName = "audit.event"

// ScopeName is the audit connector's scope name (its generated
// metadata.ScopeName; a test keeps them equal).
const ScopeName = "github.com/otel-audit/auditprocessor/auditconnector"

// Verifier checks events and checkpoints read in any order, one chain at a
// time per chain id. Memory is bounded per chain, not by the number of
// events: events that come ahead of the next expected sequence number wait
// in a window of Window events; when the window is full, the numbers before
// the earliest waiting event are taken as missing (an event that comes
// later still is counted as late, and its range is no longer missing). The
// last Recent chain hashes are kept to check checkpoints and duplicates that
// come after their events.
type Verifier struct {
	Keys   map[string]*PublicKey // by key id
	Window int
	Recent int
	chains map[string]*chainState
	enc    Encoder
	// Unchained counts records named like an event that carry no chain (or
	// an unusable one): look-alikes, or events of a connector without
	// integrity.
	Unchained int
	// Malformed counts checkpoint records that cannot be read.
	Malformed int
	// Other counts records that are neither events nor checkpoints.
	Other int
	links []RestartLink
}

// Defaults of Window and Recent.
const (
	DefaultWindow = 1 << 16
	DefaultRecent = 1 << 13
)

// ChainReport is what verify says of one chain.
type ChainReport struct {
	Chain          string   `json:"chain"`
	Events         int      `json:"events"`
	Verified       int      `json:"verified"`
	Duplicates     int      `json:"duplicates"`
	Unlinked       int      `json:"unlinked"`
	Late           int      `json:"late"`
	Missing        []Range  `json:"missing"`
	MissingEvents  uint64   `json:"missing_events"`
	Withdrawn      []Range  `json:"withdrawn"`
	Altered        []string `json:"altered"`
	AlteredEvents  int      `json:"altered_events"`
	Checkpoints    int      `json:"checkpoints"`
	BadSignatures  int      `json:"bad_signatures"`
	HeadMismatches int      `json:"head_mismatches"`
	BrokenLinks    int      `json:"broken_checkpoint_links"`
	LastSigned     uint64   `json:"last_signed"`
	// Predecessor is the chain this one follows (the same collector's chain
	// before a restart), as its signed checkpoints name it; Successor the
	// chain that follows it, as its signed closing checkpoint names it.
	Predecessor string `json:"predecessor,omitempty"`
	Successor   string `json:"successor,omitempty"`
	// BrokenRestartLinks counts what does not agree between this chain and
	// the chains it links to: it names a predecessor that is in the input
	// but whose closing checkpoint does not name this chain, or its signed
	// checkpoints name two predecessors or two successors.
	BrokenRestartLinks int    `json:"broken_restart_links"`
	UnsignedTail       uint64 `json:"unsigned_tail"`
	HighestSequence    uint64 `json:"highest_sequence"`
}

// Failed tells whether the chain shows a gap, an alteration or a bad
// checkpoint.
func (r *ChainReport) Failed() bool {
	return r.MissingEvents > 0 || r.AlteredEvents > 0 || r.BadSignatures > 0 || r.HeadMismatches > 0 || r.BrokenLinks > 0 || r.BrokenRestartLinks > 0
}

// RestartLink is a restart: the chain From ended (its closing checkpoint, signed
// by the restarted collector, covers it up to Last) and the chain To
// follows it. Problem is empty when both sides agree, else says what is
// wrong or missing.
type RestartLink struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Last    uint64 `json:"last"`
	Problem string `json:"problem,omitempty"`
}

// The problems of a link.
const (
	// LinkNoClosing: To names From, which is in the input, but no signed
	// checkpoint of From names To: the closing checkpoint is not there
	// (deleted, or lost), and From's last events are unsigned.
	LinkNoClosing = "the closing checkpoint of the chain before is not in the input"
	// LinkFork: From's closing checkpoint names another chain.
	LinkFork = "the chain before names another successor"
	// LinkFromAbsent: nothing of From is in the input (not a failure: the
	// input may start after it).
	LinkFromAbsent = "the chain before is not in the input"
	// LinkToAbsent: From's closing checkpoint names To, of which nothing is
	// in the input (not a failure: To may have made no event yet).
	LinkToAbsent = "the chain after is not in the input"
)

// maxAlteredIDs bounds the ids an altered list names.
const maxAlteredIDs = 100

type pending struct {
	digest, hash Hash
	// id is the body's id (the provider format); msg, when there is none,
	// the text body, whose metadata.uid names an OCSF event (eventID).
	id, msg string
}

// eventID names an event in the report: the provider body's id, else the
// metadata.uid of an OCSF body (JSON text). It is read only for an altered
// event, so the events that verify pay nothing for it.
func (p *pending) eventID() string {
	if p.id != "" || p.msg == "" || p.msg[0] != '{' {
		return p.id
	}
	var ocsf struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	if json.Unmarshal([]byte(p.msg), &ocsf) != nil {
		return ""
	}
	return ocsf.Metadata.UID
}

type recent struct {
	seq  uint64
	hash Hash
}

type goodCheckpoint struct {
	first, last      uint64
	previous, itself Hash
}

type chainState struct {
	r       ChainReport
	next    uint64 // the next sequence number to link
	prev    Hash   // the hash after next-1, when linked
	linked  bool
	waiting map[uint64]pending
	recent  []recent
	heads   map[uint64]Hash // checkpoint heads whose event has not been linked yet
	good    []goodCheckpoint
	// closedAt is the last number of a closing checkpoint (Successor set).
	closedAt uint64
}

// NewVerifier returns a verifier with these keys.
func NewVerifier(keys []PublicKey) *Verifier {
	v := &Verifier{Keys: map[string]*PublicKey{}, Window: DefaultWindow, Recent: DefaultRecent, chains: map[string]*chainState{}}
	for i := range keys {
		v.Keys[keys[i].ID] = &keys[i]
	}
	return v
}

func (v *Verifier) chain(id string) *chainState {
	c := v.chains[id]
	if c == nil {
		id = strings.Clone(id) // a reader's strings live for one record
		c = &chainState{next: 1, linked: true, waiting: map[uint64]pending{}, recent: make([]recent, v.Recent), heads: map[uint64]Hash{}}
		c.r.Chain = id
		v.chains[id] = c
	}
	return c
}

// Record is one record as a reader hands it to the verifier: its flat
// form's header and fields (Encoder.Fields, or what a store returned), and
// the values of its audit.chain.* keys, as strings ("" when absent).
type Record struct {
	Header
	Fields                       []Field
	ChainID, ChainSeq, ChainHash string

	stream string // a VictoriaLogs row's _stream, while it is read
	// flat, when not nil, has the pairs of Fields added (BeginFields,
	// AddField) by the reader as it read them: the verifier writes the
	// flat form from it instead of adding them again.
	flat *Encoder
}

// Reset empties r for the next record, keeping its fields' room.
func (r *Record) Reset() {
	*r = Record{Fields: r.Fields[:0]}
}

// flatForm writes r's flat form and returns it (valid until the next
// write): from the pairs its reader added (flat), else from its fields,
// into e.
func (r *Record) flatForm(e *Encoder) []byte {
	if r.flat != nil {
		e = r.flat
		e.Reset()
	} else {
		e.BeginFields()
		for _, f := range r.Fields {
			e.AddField(f.Key, f.Value)
		}
	}
	e.FlatEvent(&r.Header)
	return e.Bytes()
}

// Field returns the value of the first field named k.
func (r *Record) Field(k string) (string, bool) {
	for i := range r.Fields {
		if r.Fields[i].Key == k {
			return r.Fields[i].Value, true
		}
	}
	return "", false
}

// SetChain takes a field's value when it is one of the chain's keys, and
// tells whether it was.
func (r *Record) SetChain(k, v string) bool {
	switch k {
	case AttrChainID:
		r.ChainID = v
	case AttrChainSeq:
		r.ChainSeq = v
	case AttrChainHash:
		r.ChainHash = v
	default:
		return false
	}
	return true
}

// Add reads a batch of records.
func (v *Verifier) Add(ld plog.Logs) {
	var r Record
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				r.Reset()
				r.Header = Header{
					EventName: lr.EventName(), Time: uint64(lr.Timestamp()),
					SeverityNumber: int64(lr.SeverityNumber()), SeverityText: lr.SeverityText(),
				}
				if r.Time == 0 {
					r.Time = uint64(lr.ObservedTimestamp())
				}
				if id := lr.TraceID(); !id.IsEmpty() {
					r.TraceID = id.String()
				}
				if id := lr.SpanID(); !id.IsEmpty() {
					r.SpanID = id.String()
				}
				r.Fields = v.enc.Fields(lr)
				for k, a := range lr.Attributes().All() {
					if IsIntegrityKey(k) {
						r.SetChain(k, a.AsString())
					}
				}
				v.AddRecord(&r)
			}
		}
	}
}

// AddRecord reads one record: an event, a checkpoint, or another record.
// It keeps nothing of r.
func (v *Verifier) AddRecord(r *Record) {
	switch {
	case r.EventName == CheckpointEventName:
		v.addCheckpoint(r)
	case r.EventName == EventName || r.ChainSeq != "":
		v.addEvent(r)
	default:
		v.Other++
	}
}

func (v *Verifier) addEvent(r *Record) {
	seq, err := strconv.ParseUint(r.ChainSeq, 10, 64)
	h, ok := ParseHash(r.ChainHash)
	if r.ChainID == "" || err != nil || seq < 1 || seq > math.MaxInt64 || !ok {
		v.Unchained++
		return
	}
	c := v.chain(r.ChainID)
	c.r.Events++
	c.r.HighestSequence = max(c.r.HighestSequence, seq)
	p := pending{digest: sha256.Sum256(r.flatForm(&v.enc)), hash: h}
	if id, ok := r.Field("id"); ok {
		p.id = id
	} else if msg, ok := r.Field(MsgKey); ok {
		p.msg = msg
	}
	if seq < c.next {
		v.again(c, seq, &p)
		return
	}
	if w, ok := c.waiting[seq]; ok {
		if w.hash == p.hash && w.digest == p.digest {
			c.r.Duplicates++
		} else {
			c.altered(p.eventID())
		}
		return
	}
	if seq == c.next {
		v.link(c, &p) // in order: it need not wait
	} else {
		p.id, p.msg = strings.Clone(p.id), strings.Clone(p.msg)
		c.waiting[seq] = p
	}
	v.advance(c)
}

// again is an event whose number was linked already (or declared missing).
func (v *Verifier) again(c *chainState, seq uint64, p *pending) {
	for i, m := range c.r.Missing {
		if seq < m.From || seq > m.To {
			continue
		}
		// Late: after its range was declared missing.
		c.r.Late++
		c.r.MissingEvents--
		switch {
		case m.From == m.To:
			c.r.Missing = slices.Delete(c.r.Missing, i, i+1)
		case seq == m.From:
			c.r.Missing[i].From++
		case seq == m.To:
			c.r.Missing[i].To--
		default:
			c.r.Missing = slices.Insert(c.r.Missing, i+1, Range{From: seq + 1, To: m.To})
			c.r.Missing[i].To = seq - 1
		}
		return
	}
	r := &c.recent[seq%uint64(len(c.recent))]
	if r.seq == seq && r.hash != p.hash {
		c.altered(p.eventID())
		return
	}
	if r.seq == seq && seq > 1 {
		pr := &c.recent[(seq-1)%uint64(len(c.recent))]
		if pr.seq == seq-1 && Link(c.r.Chain, seq, &pr.hash, &p.digest) != p.hash {
			c.altered(p.eventID())
			return
		}
	}
	c.r.Duplicates++
}

func (c *chainState) altered(id string) {
	c.r.AlteredEvents++
	if len(c.r.Altered) < maxAlteredIDs {
		c.r.Altered = append(c.r.Altered, strings.Clone(id))
	}
}

// advance links the waiting events from next on; when the window is full,
// it takes the numbers before the earliest waiting one as missing.
func (v *Verifier) advance(c *chainState) {
	for {
		for {
			p, ok := c.waiting[c.next]
			if !ok {
				break
			}
			delete(c.waiting, c.next)
			v.link(c, &p)
		}
		if len(c.waiting) <= v.Window {
			return
		}
		c.skipTo(c.earliest())
	}
}

func (c *chainState) earliest() uint64 {
	first := uint64(0)
	for s := range c.waiting {
		if first == 0 || s < first {
			first = s
		}
	}
	return first
}

// skipTo takes next..to-1 as missing, or as withdrawn where a signed
// checkpoint says the pipeline refused them, or had them in flight when
// the collector stopped (then the chain goes on over them).
func (c *chainState) skipTo(to uint64) {
	for c.next < to {
		if w, ok := c.withdrawnOver(c.next); ok {
			if w.To < to {
				c.next, c.prev, c.linked = w.To+1, w.Hash, true
			} else { // taken in part: the event at to comes after a withdrawn one
				c.next, c.linked = to, false
			}
			continue
		}
		end := to - 1
		for _, w := range c.r.Withdrawn {
			if w.From > c.next && w.From <= end {
				end = w.From - 1
			}
		}
		c.r.Missing = append(c.r.Missing, Range{From: c.next, To: end})
		c.r.MissingEvents += end + 1 - c.next
		c.next, c.linked = end+1, false
	}
}

// withdrawnOver is the withdrawn range that holds seq: after a crash, a
// range the pipeline may have taken in part.
func (c *chainState) withdrawnOver(seq uint64) (Range, bool) {
	for _, w := range c.r.Withdrawn {
		if w.From <= seq && seq <= w.To {
			return w, true
		}
	}
	return Range{}, false
}

func (c *chainState) withdrawnAt(seq uint64) (Range, bool) {
	for _, w := range c.r.Withdrawn {
		if w.From == seq {
			return w, true
		}
	}
	return Range{}, false
}

// link checks the event of number next against the chain.
func (v *Verifier) link(c *chainState, p *pending) {
	seq := c.next
	if c.linked {
		if Link(c.r.Chain, seq, &c.prev, &p.digest) == p.hash {
			c.r.Verified++
		} else {
			c.altered(p.eventID())
		}
	} else {
		c.r.Unlinked++ // after a gap: its predecessor is not there to link it to
	}
	c.prev, c.linked, c.next = p.hash, true, seq+1
	c.recent[seq%uint64(len(c.recent))] = recent{seq, p.hash}
	if head, ok := c.heads[seq]; ok {
		delete(c.heads, seq)
		if head != p.hash {
			c.r.HeadMismatches++
		}
	}
}

func (v *Verifier) addCheckpoint(r *Record) {
	cp, err := ReadCheckpoint(r.Fields)
	if err != nil {
		v.Malformed++
		return
	}
	c := v.chain(cp.Chain)
	c.r.Checkpoints++
	key := v.Keys[cp.KeyID]
	signed := SignedFields(&v.enc, r.Fields)
	if key == nil || key.Algorithm != cp.Algorithm || !key.Verify(signed, cp.Signature) {
		c.r.BadSignatures++
		return
	}
	c.good = append(c.good, goodCheckpoint{first: cp.First, last: cp.Last, previous: cp.Previous, itself: sha256.Sum256(signed)})
	c.r.LastSigned = max(c.r.LastSigned, cp.Last)
	c.name(&c.r.Predecessor, cp.Predecessor)
	if c.name(&c.r.Successor, cp.Successor) {
		c.closedAt = cp.Last
	}
	for _, w := range cp.Withdrawn {
		if _, ok := c.withdrawnAt(w.From); !ok {
			c.r.Withdrawn = append(c.r.Withdrawn, w)
		}
	}
	if cp.Last < c.next {
		if r := c.recent[cp.Last%uint64(len(c.recent))]; r.seq == cp.Last && r.hash != cp.Head {
			c.r.HeadMismatches++
		}
		return
	}
	c.heads[cp.Last] = cp.Head
}

// name records a chain that a signed checkpoint names (a predecessor or a
// successor); a second, different one is a broken link. It tells whether
// the checkpoint named one.
func (c *chainState) name(field *string, named string) bool {
	switch {
	case named == "":
		return false
	case *field == "":
		*field = strings.Clone(named) // a reader's strings live for one record
	case *field != named:
		c.r.BrokenRestartLinks++
	}
	return true
}

// Links returns the restarts the chains name, after Finish: each chain
// that names a predecessor, and each closing checkpoint whose successor is
// not in the input. A link whose chain before is in the input but does not
// name the chain after is counted in the chain after's BrokenRestartLinks.
func (v *Verifier) Links() []RestartLink {
	return v.links
}

// links checks the restart links; Finish calls it before it returns the
// reports.
func (v *Verifier) checkLinks() {
	v.links = []RestartLink{}
	for _, c := range v.chains {
		if p := c.r.Predecessor; p != "" {
			l := RestartLink{From: p, To: c.r.Chain}
			switch pc := v.chains[p]; {
			case pc == nil:
				l.Problem = LinkFromAbsent
			case pc.r.Successor == c.r.Chain:
				l.Last = pc.closedAt
			case pc.r.Successor == "":
				l.Problem = LinkNoClosing
				c.r.BrokenRestartLinks++
			default:
				l.Problem = LinkFork
				c.r.BrokenRestartLinks++
			}
			v.links = append(v.links, l)
		}
		if s := c.r.Successor; s != "" && v.chains[s] == nil {
			v.links = append(v.links, RestartLink{From: c.r.Chain, To: s, Last: c.closedAt, Problem: LinkToAbsent})
		}
	}
	slices.SortFunc(v.links, func(a, b RestartLink) int {
		if d := CompareKeys(a.From, b.From); d != 0 {
			return d
		}
		return CompareKeys(a.To, b.To)
	})
}

// Finish takes what still waits as coming after gaps, up to the highest
// number an event or a signed checkpoint names, and returns the reports,
// by chain id.
func (v *Verifier) Finish() []ChainReport {
	reps := make([]ChainReport, 0, len(v.chains))
	v.checkLinks()
	for _, c := range v.chains {
		for len(c.waiting) > 0 {
			c.skipTo(c.earliest())
			v.advance(c)
		}
		if end := max(c.r.HighestSequence, c.r.LastSigned); end >= c.next {
			c.skipTo(end + 1)
		}
		// The checkpoints link: each starts after the one before and names
		// its hash.
		slices.SortFunc(c.good, func(a, b goodCheckpoint) int { return cmp.Compare(a.first, b.first) })
		var prev *goodCheckpoint
		for i := range c.good {
			g := &c.good[i]
			if prev != nil && g.first == prev.first && g.itself == prev.itself {
				continue // the same checkpoint twice
			}
			switch {
			case prev == nil && (g.first != 1 || g.previous != Hash{}):
				c.r.BrokenLinks++
			case prev != nil && (g.first != prev.last+1 || g.previous != prev.itself):
				c.r.BrokenLinks++
			}
			prev = g
		}
		if c.r.HighestSequence > c.r.LastSigned {
			c.r.UnsignedTail = c.r.HighestSequence - c.r.LastSigned
		}
		if c.r.Missing == nil {
			c.r.Missing = []Range{}
		}
		if c.r.Withdrawn == nil {
			c.r.Withdrawn = []Range{}
		}
		if c.r.Altered == nil {
			c.r.Altered = []string{}
		}
		reps = append(reps, c.r)
	}
	slices.SortFunc(reps, func(a, b ChainReport) int { return CompareKeys(a.Chain, b.Chain) })
	return reps
}
