package integrity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// CheckpointEventName is the event name of a checkpoint record.
const CheckpointEventName = "audit.checkpoint"

// The members of a checkpoint record's body.
const (
	cpChain       = "chain"
	cpFirst       = "first"
	cpLast        = "last"
	cpHead        = "head"
	cpPrevious    = "previous"
	cpKeyID       = "keyId"
	cpAlgorithm   = "algorithm"
	cpTime        = "time"
	cpWithdrawn   = "withdrawn"
	cpSignature   = "signature"
	cpPredecessor = "predecessor"
	cpSuccessor   = "successor"
)

// The signature algorithms.
const (
	AlgEd25519   = "ed25519"
	AlgECDSAP256 = "ecdsa-p256-sha256"
)

// Range is a run of sequence numbers [From, To] the pipeline refused after
// they were chained; Hash is the chain hash after To, so that a verifier
// continues the chain over them.
type Range struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	Hash Hash   `json:"-"`
}

// Checkpoint closes the chain segment First..Last: Head is the chain hash
// after Last, Previous the hash of the previous checkpoint's signed form
// (zero for the first), KeyID the signing key's id. Across restarts:
// Predecessor names the chain this one follows (the same collector's chain
// before its restart), on every checkpoint of the chain; Successor, on the
// last checkpoint of a chain (its closing checkpoint, made by the restarted
// collector), names the chain that follows it. A closing checkpoint may
// cover no event (First = Last + 1) when its chain ended signed.
type Checkpoint struct {
	Chain       string
	First, Last uint64
	Head        Hash
	Previous    Hash
	KeyID       string
	Algorithm   string
	Time        pcommon.Timestamp
	Withdrawn   []Range
	Predecessor string
	Successor   string
	Signature   []byte
}

// Put writes the checkpoint into m (a checkpoint record's body).
func (c *Checkpoint) Put(m pcommon.Map) {
	m.EnsureCapacity(12)
	m.PutStr(cpChain, c.Chain)
	m.PutInt(cpFirst, int64(c.First))
	m.PutInt(cpLast, int64(c.Last))
	m.PutStr(cpHead, c.Head.String())
	m.PutStr(cpPrevious, c.Previous.String())
	m.PutStr(cpKeyID, c.KeyID)
	m.PutStr(cpAlgorithm, c.Algorithm)
	m.PutStr(cpTime, c.Time.AsTime().UTC().Format("2006-01-02T15:04:05.000000000Z"))
	if len(c.Withdrawn) > 0 {
		s := m.PutEmptySlice(cpWithdrawn)
		for _, r := range c.Withdrawn {
			w := s.AppendEmpty().SetEmptyMap()
			w.PutInt("from", int64(r.From))
			w.PutInt("to", int64(r.To))
			w.PutStr("hash", r.Hash.String())
		}
	}
	if c.Predecessor != "" {
		m.PutStr(cpPredecessor, c.Predecessor)
	}
	if c.Successor != "" {
		m.PutStr(cpSuccessor, c.Successor)
	}
	if c.Signature != nil {
		m.PutStr(cpSignature, base64.StdEncoding.EncodeToString(c.Signature))
	}
}

// SignedForm is what a checkpoint's signature covers: the canonical form of
// its body without the signature.
func SignedForm(e *Encoder, body pcommon.Map) []byte {
	e.Reset()
	e.Map(body, func(k string) bool { return k == cpSignature })
	return e.Bytes()
}

// ReadCheckpoint reads a checkpoint record's body; an error says which
// member is missing or unusable.
func ReadCheckpoint(body pcommon.Map) (Checkpoint, error) {
	var c Checkpoint
	str := func(k string) (string, error) {
		v, ok := body.Get(k)
		if !ok || v.Type() != pcommon.ValueTypeStr {
			return "", fmt.Errorf("checkpoint: %s is missing or not a string", k)
		}
		return v.Str(), nil
	}
	num := func(k string) (uint64, error) {
		v, ok := body.Get(k)
		if !ok || v.Type() != pcommon.ValueTypeInt || v.Int() < 0 {
			return 0, fmt.Errorf("checkpoint: %s is missing or not a sequence number", k)
		}
		return uint64(v.Int()), nil
	}
	hash := func(k string) (Hash, error) {
		s, err := str(k)
		if err != nil {
			return Hash{}, err
		}
		h, ok := ParseHash(s)
		if !ok {
			return h, fmt.Errorf("checkpoint: %s is not a SHA-256 in hex", k)
		}
		return h, nil
	}
	var err error
	var errs []error
	keep := func(e error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	c.Chain, err = str(cpChain)
	keep(err)
	c.First, err = num(cpFirst)
	keep(err)
	c.Last, err = num(cpLast)
	keep(err)
	c.Head, err = hash(cpHead)
	keep(err)
	c.Previous, err = hash(cpPrevious)
	keep(err)
	c.KeyID, err = str(cpKeyID)
	keep(err)
	c.Algorithm, err = str(cpAlgorithm)
	keep(err)
	sig, err := str(cpSignature)
	keep(err)
	if err == nil {
		c.Signature, err = base64.StdEncoding.DecodeString(sig)
		keep(err)
	}
	if v, ok := body.Get(cpWithdrawn); ok {
		if v.Type() != pcommon.ValueTypeSlice {
			keep(errors.New("checkpoint: withdrawn is not a list"))
		} else {
			for _, w := range v.Slice().All() {
				if w.Type() != pcommon.ValueTypeMap {
					keep(errors.New("checkpoint: withdrawn holds a non-map"))
					continue
				}
				m := w.Map()
				f, ok1 := m.Get("from")
				t, ok2 := m.Get("to")
				h, ok3 := m.Get("hash")
				var r Range
				var hok bool
				if ok3 && h.Type() == pcommon.ValueTypeStr {
					r.Hash, hok = ParseHash(h.Str())
				}
				if !ok1 || !ok2 || !hok || f.Type() != pcommon.ValueTypeInt || t.Type() != pcommon.ValueTypeInt || f.Int() < 1 || t.Int() < f.Int() {
					keep(errors.New("checkpoint: a withdrawn range is unusable"))
					continue
				}
				r.From, r.To = uint64(f.Int()), uint64(t.Int())
				c.Withdrawn = append(c.Withdrawn, r)
			}
		}
	}
	for _, l := range []struct {
		key string
		to  *string
	}{{cpPredecessor, &c.Predecessor}, {cpSuccessor, &c.Successor}} {
		if v, ok := body.Get(l.key); ok {
			if v.Type() != pcommon.ValueTypeStr || v.Str() == "" {
				keep(fmt.Errorf("checkpoint: %s is not a chain id", l.key))
				continue
			}
			*l.to = v.Str()
		}
	}
	// A closing checkpoint (with a successor) may cover nothing: first is
	// last + 1.
	if len(errs) == 0 && (c.First < 1 || c.Last < c.First && (c.Successor == "" || c.Last+1 != c.First)) {
		keep(fmt.Errorf("checkpoint: first %d and last %d are not a range", c.First, c.Last))
	}
	return c, errors.Join(errs...)
}

// Signer signs checkpoints with a private key.
type Signer struct {
	key       crypto.Signer
	KeyID     string
	Algorithm string
}

// Sign signs msg (a checkpoint's signed form).
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	if s.Algorithm == AlgEd25519 {
		return s.key.Sign(nil, msg, crypto.Hash(0))
	}
	d := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.key.(*ecdsa.PrivateKey), d[:])
}

// KeyID is the id of a public key: the SHA-256 (hex) of its PKIX (DER)
// form, the "SubjectPublicKeyInfo" that `openssl pkey -pubout -outform DER`
// writes.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// algorithm says which of the two supported kinds a key is.
func algorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return AlgEd25519, nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return AlgECDSAP256, nil
		}
		return "", fmt.Errorf("an ECDSA key on %s, not P-256", k.Curve.Params().Name)
	default:
		return "", fmt.Errorf("a %T, not an Ed25519 or ECDSA P-256 key", pub)
	}
}

// LoadSigner reads a PEM private key (PKCS #8 "PRIVATE KEY", or SEC 1 "EC
// PRIVATE KEY") of Ed25519 or ECDSA P-256. Errors name the file.
func LoadSigner(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSigner(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSigner is LoadSigner for the file's content.
func ParseSigner(data []byte) (*Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a PEM %q block, not a private key (PRIVATE KEY or EC PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 or ECDSA P-256 key", key)
	}
	alg, err := algorithm(signer.Public())
	if err != nil {
		return nil, err
	}
	id, err := KeyID(signer.Public())
	if err != nil {
		return nil, err
	}
	return &Signer{key: signer, KeyID: id, Algorithm: alg}, nil
}

// PublicKey is a verification key with its id.
type PublicKey struct {
	Key       crypto.PublicKey
	ID        string
	Algorithm string
}

// ParsePublicKeys reads every "PUBLIC KEY" PEM block (PKIX) of data; a
// private key block gives its public key.
func ParsePublicKeys(data []byte) ([]PublicKey, error) {
	var keys []PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var pub crypto.PublicKey
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			pub = k
		case "PRIVATE KEY", "EC PRIVATE KEY":
			s, err := ParseSigner(pem.EncodeToMemory(block))
			if err != nil {
				return nil, err
			}
			pub = s.key.Public()
		default:
			return nil, fmt.Errorf("a PEM %q block, not a public key", block.Type)
		}
		alg, err := algorithm(pub)
		if err != nil {
			return nil, err
		}
		id, err := KeyID(pub)
		if err != nil {
			return nil, err
		}
		keys = append(keys, PublicKey{Key: pub, ID: id, Algorithm: alg})
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key")
	}
	return keys, nil
}

// Verify checks a signature of msg.
func (k *PublicKey) Verify(msg, sig []byte) bool {
	switch pub := k.Key.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(pub, msg, sig)
	case *ecdsa.PublicKey:
		d := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(pub, d[:], sig)
	}
	return false
}
