package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/recording/crypt"
)

// Options configures a Recorder.
type Options struct {
	// Rate is the call's sample rate: 8000 or 16000. Required.
	Rate int
	// Keyring wraps the recording's data key with its current KEK.
	// Required.
	Keyring *crypt.Keyring
	// FlushEvery is how much audio may wait in memory before it is sealed
	// and written out: what a crash can lose. Counted in samples, not wall
	// time (see Recorder). Default and maximum 1s.
	FlushEvery time.Duration
	// MaxAgentLead bounds how far agent audio may be placed ahead of the
	// caller's position, and so the memory held for it. Default 5s; the
	// pacer's lead is a few hundred milliseconds.
	MaxAgentLead time.Duration
	// Sync fsyncs the file at every flush, so that a power cut also loses
	// at most FlushEvery. Off by default: a process crash loses at most
	// FlushEvery either way, and a fsync a second per call costs disks
	// more than the audio does.
	Sync bool
}

var (
	// ErrAgentAhead is wrapped when agent audio would end more than
	// MaxAgentLead ahead of the caller's position.
	ErrAgentAhead = errors.New("agent audio too far ahead of the caller")
	// ErrFull is wrapped when a recording reaches the largest WAV file
	// (4 GiB: 37 hours at 8 kHz, 18 at 16 kHz).
	ErrFull = errors.New("recording full")
	// ErrClosed is returned by a Recorder used after Close.
	ErrClosed = errors.New("recording: recorder closed")
)

// maxDataBytes is the most sample bytes a WAV header's 32-bit sizes allow.
const maxDataBytes = math.MaxUint32 - 36

// Recorder writes one call's audio to an encrypted stereo WAV file, caller
// on the left and agent on the right.
//
// The caller's stream is the clock. Every caller sample written (or
// skipped with SkipCaller) advances the recording's position by one, and
// the two channels are written out up to that position: so the channels
// stay aligned by sample position whatever the goroutines' timing, and
// where the agent played nothing the right channel is silence. Agent audio
// is placed where the call says it was played (WriteAgentAt), or right
// after the agent's previous audio or at the current position, whichever
// is later (WriteAgent); it may run up to MaxAgentLead ahead of the caller
// (the pacer's lead), and is held until the caller's clock reaches it.
// Audio is never overwritten or dropped: agent audio that arrives for a
// position already written is placed at the first free one, and counted
// in Stats.
//
// Every FlushEvery of audio the Recorder seals what it has as a chunk and
// writes it out, so a crash loses at most that much. Close writes out the
// rest (agent audio past the caller's end with silence on the left) and the
// final chunk.
//
// A Recorder is safe for concurrent use: WriteCaller and WriteAgent are
// meant to be called from the call's read and write goroutines. It
// allocates nothing per frame once its buffers have grown to the frame
// size.
type Recorder struct {
	// immutable
	id         string
	rate       int
	flushEvery int64 // frames
	maxLead    int64 // frames

	mu        sync.Mutex
	w         *crypt.Writer // guarded by mu
	committed int64         // frames written to w; guarded by mu
	lastFlush int64         // committed at the last flush; guarded by mu
	agent     []int16       // agent samples at [committed, committed+len); guarded by mu
	agentEnd  int64         // end of the last agent audio placed; guarded by mu
	out       []byte        // interleaved scratch; guarded by mu
	stats     Stats         // guarded by mu
	err       error         // sticky write error; guarded by mu
	closed    bool          // guarded by mu
	closeErr  error         // guarded by mu
}

// Stats describes a recording so far.
type Stats struct {
	// Frames is the number of stereo sample frames written: the length
	// of the recording.
	Frames int64
	// AgentShifted counts agent samples placed later than asked because
	// their position was already written or taken.
	AgentShifted int64
	// Flushes counts the chunks sealed.
	Flushes int64
}

// Create starts the recording of call id in dir: it creates dir/<id>.wav.enc
// (which must not exist yet) and writes the WAV header at once, so that
// even a call that dies in its first second leaves a file Recover can
// finish.
func Create(dir, id string, opts Options) (*Recorder, error) {
	path, err := Path(dir, id)
	if err != nil {
		return nil, err
	}
	if opts.Rate != 8000 && opts.Rate != 16000 {
		return nil, fmt.Errorf("recording: create %s: rate %d, want 8000 or 16000", id, opts.Rate)
	}
	if opts.Keyring == nil {
		return nil, fmt.Errorf("recording: create %s: no keyring", id)
	}
	every := opts.FlushEvery
	if every <= 0 || every > time.Second {
		every = time.Second
	}
	lead := opts.MaxAgentLead
	if lead <= 0 {
		lead = 5 * time.Second
	}
	// Chunks of two seconds of audio: a flush every second seals one.
	cs := 2 * opts.Rate * 4
	w, err := crypt.CreateFile(path, opts.Keyring, &crypt.Options{ChunkSize: cs, Sync: opts.Sync})
	if err != nil {
		return nil, fmt.Errorf("recording: create %s: %w", id, err)
	}
	// Placeholder sizes: the file is read to its end, and Open serves a
	// header with the real ones.
	hdr, err := media.AppendWAVHeader(make([]byte, 0, media.WAVHeaderSize), opts.Rate, 2, 0)
	if err == nil {
		if _, err = w.Write(hdr); err == nil {
			err = w.Flush()
		}
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("recording: create %s: write WAV header: %w", id, err)
	}
	return &Recorder{
		id:         id,
		rate:       opts.Rate,
		flushEvery: int64(media.Samples(opts.Rate, every)),
		maxLead:    int64(media.Samples(opts.Rate, lead)),
		w:          w,
	}, nil
}

// ID returns the call id.
func (r *Recorder) ID() string { return r.id }

// Rate returns the sample rate.
func (r *Recorder) Rate() int { return r.rate }

// WriteCaller records the caller's next samples and advances the
// recording's position by len(pcm).
func (r *Recorder) WriteCaller(pcm []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commitLocked(pcm, len(pcm))
}

// SkipCaller advances the recording's position by n samples of caller
// silence, for a stream that sends nothing while the caller is quiet
// (Opus DTX) or lost packets.
func (r *Recorder) SkipCaller(n int) error {
	if n < 0 {
		return fmt.Errorf("recording: skip %d caller samples: negative", n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commitLocked(nil, n)
}

// WriteAgent records agent audio played now: right after the agent's
// previous audio, or at the current position if that is later (the agent
// was silent).
func (r *Recorder) WriteAgent(pcm []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.placeAgentLocked(max(r.agentEnd, r.committed), pcm)
}

// WriteAgentAt records agent audio played at sample position pos (as
// Position counts). Audio for a position already written or already taken
// by earlier agent audio goes to the first free position instead, and is
// counted in Stats.AgentShifted.
func (r *Recorder) WriteAgentAt(pos int64, pcm []int16) error {
	if pos < 0 {
		return fmt.Errorf("recording %s: agent audio at %d: negative position", r.id, pos)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at := max(pos, r.agentEnd, r.committed)
	if err := r.placeAgentLocked(at, pcm); err != nil {
		return err
	}
	if at > pos {
		r.stats.AgentShifted += int64(len(pcm))
	}
	return nil
}

func (r *Recorder) placeAgentLocked(at int64, pcm []int16) error {
	if err := r.usableLocked(); err != nil {
		return err
	}
	end := at + int64(len(pcm))
	if end-r.committed > r.maxLead {
		return fmt.Errorf("recording %s: agent audio at %d..%d, caller at %d: %w", r.id, at, end, r.committed, ErrAgentAhead)
	}
	off := int(at - r.committed)
	if need := off + len(pcm); need > len(r.agent) {
		old := len(r.agent)
		r.agent = slices.Grow(r.agent, need-old)[:need]
		clear(r.agent[old:]) // silence between the agent's audio
	}
	copy(r.agent[off:], pcm)
	r.agentEnd = end
	return nil
}

// Position returns the recording's position: caller samples written and
// skipped so far.
func (r *Recorder) Position() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.committed
}

// Stats returns the recording's counters.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Frames = r.committed
	return s
}

// Flush seals and writes out everything up to the current position now,
// for a call that wants a wall-clock bound on top of the audio one.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usableLocked(); err != nil {
		return err
	}
	return r.flushLocked()
}

// Close writes out the agent audio still ahead of the caller (with
// silence on the left), seals the final chunk and closes the file. It is
// idempotent and safe to call concurrently with writes; later calls return
// the first call's result.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.closeErr
	}
	var err error
	if r.err == nil {
		err = r.commitLocked(nil, max(int(r.agentEnd-r.committed), 0))
	}
	r.closed = true
	if cerr := r.w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.err
	}
	if err != nil {
		err = fmt.Errorf("recording %s: close: %w", r.id, err)
	}
	r.closeErr = err
	return err
}

func (r *Recorder) usableLocked() error {
	if r.closed {
		return ErrClosed
	}
	return r.err
}

// commitLocked writes n frames at the current position: caller from pcm
// (silence past its end), agent from r.agent (silence past its end).
func (r *Recorder) commitLocked(pcm []int16, n int) error {
	if err := r.usableLocked(); err != nil {
		return err
	}
	if (r.committed+int64(n))*4 > maxDataBytes {
		r.err = fmt.Errorf("recording %s: %d frames: %w", r.id, r.committed+int64(n), ErrFull)
		return r.err
	}
	const block = 1024 // frames per Write, so that the scratch stays small
	for done := 0; done < n; {
		m := min(n-done, block)
		if cap(r.out) < 4*m {
			r.out = make([]byte, 4*m)
		}
		out := r.out[:4*m]
		for i := range m {
			var left, right int16
			if j := done + i; j < len(pcm) {
				left = pcm[j]
			}
			if j := done + i; j < len(r.agent) {
				right = r.agent[j]
			}
			binary.LittleEndian.PutUint16(out[4*i:], uint16(left))
			binary.LittleEndian.PutUint16(out[4*i+2:], uint16(right))
		}
		if _, err := r.w.Write(out); err != nil {
			r.err = fmt.Errorf("recording %s: write: %w", r.id, err)
			return r.err
		}
		done += m
	}
	// Drop the agent samples now written, keeping the ones ahead.
	if n >= len(r.agent) {
		r.agent = r.agent[:0]
	} else {
		r.agent = r.agent[:copy(r.agent, r.agent[n:])]
	}
	r.committed += int64(n)
	if r.committed-r.lastFlush >= r.flushEvery {
		return r.flushLocked()
	}
	return nil
}

func (r *Recorder) flushLocked() error {
	if r.committed == r.lastFlush {
		return nil
	}
	if err := r.w.Flush(); err != nil {
		r.err = fmt.Errorf("recording %s: flush: %w", r.id, err)
		return r.err
	}
	r.lastFlush = r.committed
	r.stats.Flushes++
	return nil
}
