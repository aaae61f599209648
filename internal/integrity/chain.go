package integrity

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
)

// The integrity attributes of an event: this project's names, written by the
// connector and removed from incoming records by the processor.
const (
	// AttrChainID is the chain's id (a UUID made when the chain starts).
	AttrChainID = "audit.chain.id"
	// AttrChainSeq is the event's sequence number in its chain: 1, 2, ...
	AttrChainSeq = "audit.chain.seq"
	// AttrChainHash is the chain hash after the event (Link), in hex.
	AttrChainHash = "audit.chain.hash"
	// ChainPrefix starts every integrity attribute: the canonical form of an
	// event leaves out the attributes that have it.
	ChainPrefix = "audit.chain."
)

// Keys are the integrity attributes.
var Keys = []string{AttrChainID, AttrChainSeq, AttrChainHash}

// IsIntegrityKey tells whether an attribute is one the chain writes (and
// so is not part of the event's canonical form).
func IsIntegrityKey(k string) bool { return strings.HasPrefix(k, ChainPrefix) }

// Hash is a SHA-256.
type Hash [sha256.Size]byte

// String is the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a hash in hex.
func ParseHash(s string) (Hash, bool) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, false
	}
	_, err := hex.Decode(h[:], []byte(s))
	return h, err == nil
}

// Digest is the SHA-256 of an event's flat form (Encoder.Event, flat.go).
func (e *Encoder) Digest(lr plog.LogRecord) Hash {
	e.Reset()
	e.Event(lr)
	return sha256.Sum256(e.buf)
}

// linkTag starts every link's input, so that a link hash is never the hash
// of something else.
const linkTag = "otel-audit chain v1\x00"

// Link is the chain hash after the event of sequence number seq, whose
// canonical form hashes to digest, in chain, after prev (the hash after
// seq-1; zero for the first event of a chain):
//
//	SHA-256("otel-audit chain v1" 0x00 ‖ chain ‖ 0x00 ‖ seq as 8 bytes big-endian ‖ prev ‖ digest)
func Link(chain string, seq uint64, prev, digest *Hash) Hash {
	var a [256]byte
	b := append(a[:0], linkTag...)
	b = append(b, chain...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, prev[:]...)
	b = append(b, digest[:]...)
	return sha256.Sum256(b)
}
