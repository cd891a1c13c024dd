package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// KeySize is the length of a KEK and of a DEK: AES-256.
const KeySize = 32

// MaxKeyIDLen is the longest KEK id a header holds.
const MaxKeyIDLen = 48

var (
	// ErrUnknownKey is wrapped when a file names a KEK the keyring lacks.
	ErrUnknownKey = errors.New("unknown key-encryption key")
	// ErrNoCurrentKey is wrapped when a file is created or rewrapped with a
	// keyring that has no current KEK.
	ErrNoCurrentKey = errors.New("keyring has no current key")
)

// Keyring holds key-encryption keys by id, one of them current for new
// files. It is safe for concurrent use: keys can be added, rotated and
// removed while files are read and written.
type Keyring struct {
	mu      sync.RWMutex
	keys    map[string]cipher.AEAD // guarded by mu
	current string                 // guarded by mu
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring {
	return &Keyring{keys: map[string]cipher.AEAD{}}
}

// NewKey returns a random 32-byte key, for a KEK.
func NewKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // never fails (crypto/rand since Go 1.24)
	return k
}

// ValidKeyID reports whether id can name a KEK: 1 to 48 bytes of
// [A-Za-z0-9._-].
func ValidKeyID(id string) error {
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return fmt.Errorf("crypt: key id %q: length %d, want 1..%d", id, len(id), MaxKeyIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("crypt: key id %q: byte %#x at %d is not [A-Za-z0-9._-]", id, c, i)
		}
	}
	return nil
}

// Add adds a KEK. The first key added becomes current. Adding an id twice
// is an error, so a rotated key is never silently replaced: files wrapped
// by the old bytes would become unreadable.
func (k *Keyring) Add(id string, key []byte) error {
	if err := ValidKeyID(id); err != nil {
		return err
	}
	if len(key) != KeySize {
		return fmt.Errorf("crypt: add key %q: %d bytes, want %d", id, len(key), KeySize)
	}
	aead, err := newWrapAEAD(key)
	if err != nil {
		return fmt.Errorf("crypt: add key %q: %w", id, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, dup := k.keys[id]; dup {
		return fmt.Errorf("crypt: add key %q: id already in the keyring", id)
	}
	k.keys[id] = aead
	if k.current == "" {
		k.current = id
	}
	return nil
}

// SetCurrent makes id the KEK for new files and for Rewrap.
func (k *Keyring) SetCurrent(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.keys[id]; !ok {
		return fmt.Errorf("crypt: set current key %q: %w", id, ErrUnknownKey)
	}
	k.current = id
	return nil
}

// Current returns the id of the current KEK, "" when the keyring is empty.
func (k *Keyring) Current() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// IDs returns the ids of the keyring's KEKs, sorted.
func (k *Keyring) IDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Remove drops a KEK. Every file still wrapped by it becomes unreadable
// through this keyring: rewrap them first, or remove it on purpose to
// shred them. Removing the current key leaves the keyring without one.
func (k *Keyring) Remove(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, id)
	if k.current == id {
		k.current = ""
	}
}

func (k *Keyring) get(id string) (cipher.AEAD, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	aead, ok := k.keys[id]
	if !ok {
		return nil, fmt.Errorf("key id %q: %w", id, ErrUnknownKey)
	}
	return aead, nil
}

func (k *Keyring) currentKey() (string, cipher.AEAD, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.current == "" {
		return "", nil, ErrNoCurrentKey
	}
	return k.current, k.keys[k.current], nil
}

// newWrapAEAD returns AES-256-GCM that draws a random nonce per Seal and
// prepends it: wrapping is rare (once per file), so random nonces stay far
// below GCM's 2^32 limit per key.
func newWrapAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(b)
}
