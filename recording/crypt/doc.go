// Package crypt is the envelope encryption of Frontdesk's recording and
// transcript files: each file is sealed with its own random AES-256-GCM data
// key (DEK), and the DEK is stored in the file's header wrapped by a
// key-encryption key (KEK) named by an id. KEKs live in a Keyring; one is
// current for new files, older ones stay to read older files, and Rewrap
// moves a file's header to the current KEK without touching its data.
//
// The file is a fixed header followed by chunks, so it can be written
// incrementally (a call appends audio as it happens), read as a stream or by
// plaintext offset (HTTP Range), and recovered after a crash:
//
//	header (122 bytes)
//	  0  4  magic "FDEC"
//	  4  1  version (1)
//	  5  1  KEK id length L, 1..48
//	  6 48  KEK id, zero padded
//	 54  4  nonce prefix, random
//	 58  4  chunk size: the most plaintext bytes one chunk holds (big endian)
//	 62 60  wrapped DEK: AES-256-GCM under the KEK with a random 12-byte
//	        nonce, as nonce || ciphertext || tag, additional data bytes 0..61
//	chunk (repeated)
//	  0  4  bit 31 final, bit 30 recovered, bits 0..29 plaintext length n
//	  4 n+16 AES-256-GCM under the DEK of the n plaintext bytes
//	        nonce      = nonce prefix || counter (8 bytes, big endian)
//	        counter    = chunk index, with bit 63 set when recovered
//	        additional = chunk index (8 bytes) || flags byte (bits 31..24
//	                     of the length word)
//
// Chunks have variable length: a Writer seals a chunk when it holds chunk
// size bytes and whenever its owner calls Flush, so a recorder can seal what
// it has every second. The chunk index in the nonce and additional data
// makes reordering, swapping or dropping chunks fail authentication; the
// final flag lets a reader tell a finished file from one cut at a chunk
// boundary. A Reader learns the chunk boundaries by walking the length
// words once when it opens (4 bytes read per chunk), then serves any
// plaintext offset by decrypting the one chunk that holds it.
//
// A file that was being written when its process died has no final chunk.
// FinishFile makes it readable again: it drops a torn or unauthenticated
// tail and appends an empty final chunk flagged "recovered". That chunk's
// counter has bit 63 set, so it never reuses a nonce a dead writer may have
// used for the chunk it was cut off in.
//
// Crypto-shredding: the wrapped DEK exists only in the header. Shred
// overwrites the header with random bytes, syncs and removes the file, so
// any copy made after that point is noise; removing a KEK from every
// keyring (and its backups) shreds every file wrapped by it, which is how a
// whole tenant can be erased from backups that still hold its files.
package crypt
