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
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

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
			w.PutInt("from", int64(r.From)) // in JCS order (withdrawnJSON)
			w.PutStr("hash", r.Hash.String())
			w.PutInt("to", int64(r.To))
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

// SignedForm is what a checkpoint's signature covers: the flat form of its
// body without the signature (flat.go: the JCS array of its pairs).
func SignedForm(e *Encoder, body pcommon.Map) []byte {
	e.BeginFields()
	e.f.prefix = e.f.prefix[:0]
	e.addMap(body, isSignature)
	e.pairsJSON()
	return e.Bytes()
}

// SignedFields is SignedForm for a checkpoint's fields as a reader got
// them.
func SignedFields(e *Encoder, fields []Field) []byte {
	e.BeginFields()
	for _, f := range fields {
		if !isSignature(f.Key) {
			e.AddField(f.Key, f.Value)
		}
	}
	e.pairsJSON()
	return e.Bytes()
}

// withdrawnJSON is a withdrawn range as the checkpoint body's list holds
// it (members in JCS order: the list's text is the same in JCS and as a
// store writes it back).
type withdrawnJSON struct {
	From uint64 `json:"from"`
	Hash string `json:"hash"`
	To   uint64 `json:"to"`
}

// ReadCheckpoint reads a checkpoint record's fields (its body's flat
// pairs); an error says which member is missing or unusable.
func ReadCheckpoint(fields []Field) (Checkpoint, error) {
	var c Checkpoint
	get := func(k string) (string, bool) {
		for i := range fields {
			if fields[i].Key == k {
				return fields[i].Value, true
			}
		}
		return "", false
	}
	str := func(k string) (string, error) {
		v, ok := get(k)
		if !ok {
			return "", fmt.Errorf("checkpoint: %s is missing", k)
		}
		return v, nil
	}
	num := func(k string) (uint64, error) {
		v, ok := get(k)
		n, err := strconv.ParseUint(v, 10, 63)
		if !ok || err != nil {
			return 0, fmt.Errorf("checkpoint: %s is missing or not a sequence number", k)
		}
		return n, nil
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
	if v, ok := get(cpWithdrawn); ok {
		var ws []withdrawnJSON
		if json.Unmarshal([]byte(v), &ws) != nil {
			keep(errors.New("checkpoint: withdrawn is not a list of ranges"))
		}
		for _, w := range ws {
			h, hok := ParseHash(w.Hash)
			if !hok || w.From < 1 || w.To < w.From || w.To > math.MaxInt64 {
				keep(errors.New("checkpoint: a withdrawn range is unusable"))
				continue
			}
			c.Withdrawn = append(c.Withdrawn, Range{From: w.From, To: w.To, Hash: h})
		}
	}
	for _, l := range []struct {
		key string
		to  *string
	}{{cpPredecessor, &c.Predecessor}, {cpSuccessor, &c.Successor}} {
		if v, ok := get(l.key); ok {
			if v == "" {
				keep(fmt.Errorf("checkpoint: %s is not a chain id", l.key))
				continue
			}
			*l.to = v
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
