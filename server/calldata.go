package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/recording"
	"github.com/frontdesk/frontdesk/retention"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/transcript"
)

// CallInfo describes a call that is starting, for openCallData.
type CallInfo struct {
	ID         string            // the call's ID (call.id): it names the files, so it passes recording.ValidID
	Business   *configs.Business // the business answering
	Transport  store.Transport   // store.TransportTwilio or store.TransportWebRTC
	CarrierSID string            // Twilio's CallSid; "" for WebRTC
	From, To   string            // E.164; anything else (anonymous, client:…) is stored as ""
	Rate       int               // the recording's sample rate: the call's internal rate, 8000 or 16000 (default 16000)
	StartedAt  time.Time         // default now
}

// callData is what a call leaves behind: its record in the store, its
// stereo recording (caller left, agent right) and its transcript, each
// kept as long as the business's plan says and scheduled for deletion
// when it is created. A plan that keeps no recordings never writes audio;
// one that keeps no transcripts writes none. Without a store nothing is
// written at all: files without a record and a timer would never expire.
//
// Methods are safe for concurrent use: the read loop writes caller audio,
// the write loop agent audio, the agent turns and events. Audio methods
// allocate nothing per frame. Errors of the audio path mean the recording
// failed and stopped (the call may go on): they are returned once. A nil
// *callData records nothing and every method is a no-op, so a call whose
// openCallData failed can go on without special cases.
type callData struct {
	// immutable
	srv       *Server
	id        string
	bizID     string
	started   time.Time
	rate      int
	rec       *recording.Recorder // nil: not recorded
	tr        *transcript.Log     // nil: no transcript
	recording atomic.Bool         // rec is taking audio: not stopped, closed or failed
	live      *liveCall           // set once by setLive before audio flows; the hub gets the recording's alignment

	mu        sync.Mutex
	stoppedAt time.Time // guarded by mu: when the caller opted out
	closed    bool      // guarded by mu
	closeErr  error     // guarded by mu
}

// openCallData creates the call's record, its recording and its
// transcript as the business's plan says, and schedules their expiry.
// Close must be called when the call ends, whatever happened.
func (s *Server) openCallData(ctx context.Context, ci CallInfo) (*callData, error) {
	if err := recording.ValidID(ci.ID); err != nil {
		return nil, fmt.Errorf("server: call data: %w", err)
	}
	if ci.Business == nil {
		return nil, errors.New("server: call data: no business")
	}
	if ci.StartedAt.IsZero() {
		ci.StartedAt = s.now()
	}
	if ci.Rate == 0 {
		ci.Rate = 16000
	}
	d := &callData{srv: s, id: ci.ID, bizID: ci.Business.ID, started: ci.StartedAt, rate: ci.Rate}
	if s.api.store == nil {
		return d, nil
	}
	if err := s.setupCallData(); err != nil {
		return nil, err
	}
	st := s.cdState()
	plan := s.planOf(ci.Business)
	row := store.Call{ID: ci.ID, Transport: ci.Transport, CarrierSID: ci.CarrierSID, From: e164OrEmpty(ci.From), To: e164OrEmpty(ci.To),
		StartedAt: ci.StartedAt}
	var timers []store.Timer
	if exp, ok := plan.RecordingExpiry(ci.StartedAt); ok {
		row.RecordingID, row.RecordingExpires = ci.ID, exp
		timers = append(timers, store.NewTimer(d.bizID, store.TimerRecording, ci.ID, exp))
	}
	if exp, ok := plan.TranscriptExpiry(ci.StartedAt); ok {
		row.TranscriptID, row.TranscriptExpires = ci.ID, exp
		timers = append(timers, store.NewTimer(d.bizID, store.TimerTranscript, ci.ID, exp))
	}
	if row.RecordingID != "" || row.TranscriptID != "" {
		if err := st.ensureDirs(); err != nil {
			return nil, err
		}
	}
	// The record and the timers come first: a file must never exist
	// without a timer that deletes it, even if the node dies right here.
	if _, err := s.api.store.Calls().Create(ctx, d.bizID, row); err != nil {
		return nil, fmt.Errorf("server: call data: %w", err)
	}
	for _, t := range timers {
		if err := st.sched.Schedule(ctx, t); err != nil {
			return nil, errors.Join(fmt.Errorf("server: call data: %w", err), d.abandon(ctx))
		}
	}
	var err error
	if row.RecordingID != "" {
		d.rec, err = recording.Create(st.recDir, ci.ID, recording.Options{Rate: ci.Rate, Keyring: st.keyring})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("server: call data: %w", err), d.abandon(ctx))
		}
		d.recording.Store(true)
	}
	if row.TranscriptID != "" {
		d.tr, err = transcript.Create(st.trDir, transcript.Meta{CallID: ci.ID, BusinessID: d.bizID, From: row.From, To: row.To,
			StartedAt: ci.StartedAt}, transcript.Options{Keyring: st.keyring})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("server: call data: %w", err), d.abandon(ctx))
		}
	}
	return d, nil
}

// abandon undoes a half-opened call: files, timers and record.
func (d *callData) abandon(ctx context.Context) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	st := d.srv.cdState()
	var errs []error
	if d.rec != nil {
		d.recording.Store(false)
		errs = append(errs, d.rec.Close(), st.files.DeleteRecording(ctx, d.bizID, d.id))
	}
	if d.tr != nil {
		errs = append(errs, d.tr.Close(), st.files.DeleteTranscript(ctx, d.bizID, d.id))
	}
	for _, k := range []store.TimerKind{store.TimerRecording, store.TimerTranscript} {
		errs = append(errs, st.sched.Cancel(ctx, store.TimerID(d.bizID, k, d.id)))
	}
	if err := d.srv.api.store.Calls().Delete(ctx, d.bizID, d.id); err != nil && !errors.Is(err, scheduling.ErrNotFound) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// planOf returns the business's retention plan from the current config
// (a plan the config no longer defines keeps nothing).
func (s *Server) planOf(b *configs.Business) recording.Plan {
	cfg := s.cfg
	if s.api.reg != nil {
		cfg = s.api.reg.config()
	}
	return recording.Plan(cfg.Plans[b.Plan])
}

// e164OrEmpty returns n if it is an E.164 number, else "".
func e164OrEmpty(n string) string {
	if e, err := scheduling.NormalizePhone(n, ""); err == nil && e == n {
		return n
	}
	return ""
}

// ID returns the call's ID.
func (d *callData) ID() string {
	if d == nil {
		return ""
	}
	return d.id
}

// Recording reports whether audio is being recorded now.
func (d *callData) Recording() bool { return d != nil && d.recording.Load() }

// Transcribing reports whether the call has a transcript.
func (d *callData) Transcribing() bool { return d != nil && d.tr != nil }

// audio runs one write of the recorder; a failure stops the recording and
// is returned once.
func (d *callData) audio(write func(*recording.Recorder) error) error {
	if d == nil || !d.recording.Load() {
		return nil
	}
	err := write(d.rec)
	if err == nil || !d.recording.Load() { // a write racing StopRecording or Close
		return nil
	}
	if d.recording.CompareAndSwap(true, false) {
		_ = d.rec.Close()
		return fmt.Errorf("server: call %s: recording failed and stopped: %w", d.id, err)
	}
	return nil
}

// CallerAudio records the caller's next samples (at the call's rate);
// the caller's stream is the recording's clock.
func (d *callData) CallerAudio(pcm []int16) error {
	d.liveTap().callerAudio(pcm)
	return d.audio(func(r *recording.Recorder) error { return r.WriteCaller(pcm) })
}

// CallerSilence advances the recording over n samples the caller's
// transport did not deliver (DTX, lost packets).
func (d *callData) CallerSilence(n int) error {
	d.liveTap().callerSilence(n)
	return d.audio(func(r *recording.Recorder) error { return r.SkipCaller(n) })
}

// AgentAudio records agent audio played now (right after the agent's
// previous audio, or at the caller's current position).
func (d *callData) AgentAudio(pcm []int16) error {
	d.liveTap().agentAudio(pcm)
	return d.audio(func(r *recording.Recorder) error { return r.WriteAgent(pcm) })
}

// AgentAudioAt records agent audio played at sample position pos.
func (d *callData) AgentAudioAt(pos int64, pcm []int16) error {
	d.liveTap().agentAudioAt(pos, pcm)
	return d.audio(func(r *recording.Recorder) error { return r.WriteAgentAt(pos, pcm) })
}

// Position returns the recording's sample position (caller samples so
// far), 0 when nothing is recorded.
func (d *callData) Position() int64 {
	if d == nil || d.rec == nil {
		return 0
	}
	return d.rec.Position()
}

// nowMS returns the call's time in ms: by the recording's position while
// it records (the transcript's and the recording's clocks agree), else
// by the wall clock.
func (d *callData) nowMS() int64 {
	if d.recording.Load() {
		return d.rec.Position() * 1000 / int64(d.rate)
	}
	return d.srv.now().Sub(d.started).Milliseconds()
}

// Turn writes a finished turn to the transcript and returns its index for
// Cut; -1 when the call has no transcript.
func (d *callData) Turn(t transcript.Turn) (int, error) {
	if d == nil || d.tr == nil {
		return -1, nil
	}
	i, err := d.tr.Append(t)
	if err != nil {
		return -1, fmt.Errorf("server: call %s: transcript: %w", d.id, err)
	}
	return i, nil
}

// Cut records a barge-in on agent turn index at atMS (see
// transcript.Log.Cut). An index of -1 does nothing.
func (d *callData) Cut(index int, atMS int64) (transcript.Turn, error) {
	if d == nil || d.tr == nil || index < 0 {
		return transcript.Turn{}, nil
	}
	t, err := d.tr.Cut(index, atMS)
	if err != nil {
		return transcript.Turn{}, fmt.Errorf("server: call %s: transcript: %w", d.id, err)
	}
	return t, nil
}

// Disclosed records that the caller was told the call is recorded.
func (d *callData) Disclosed(ctx context.Context) error {
	if d == nil {
		return nil
	}
	var errs []error
	if d.tr != nil {
		errs = append(errs, d.tr.Disclosed())
	}
	errs = append(errs, d.update(ctx, func(c *store.Call) { c.Disclosed = true }))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("server: call %s: disclosure: %w", d.id, err)
	}
	return nil
}

// DefaultOptOutNote is the transcript's note when the caller opts out.
const DefaultOptOutNote = "The caller asked not to be recorded: recording stopped."

// StopRecording stops the recording for the rest of the call because the
// caller asked (said so, or pressed the configured key). What was
// recorded before stays, finished and playable; the transcript notes when
// and why (reason, or DefaultOptOutNote) and the call record keeps the
// time. Stopping twice does nothing.
func (d *callData) StopRecording(ctx context.Context, reason string) error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	if !d.stoppedAt.IsZero() || d.closed {
		d.mu.Unlock()
		return nil
	}
	atMS := d.nowMS()
	d.stoppedAt = d.srv.now()
	d.mu.Unlock()
	var errs []error
	if d.recording.CompareAndSwap(true, false) {
		errs = append(errs, d.rec.Close())
	}
	if d.tr != nil {
		if reason == "" {
			reason = DefaultOptOutNote
		}
		errs = append(errs, d.tr.RecordingStopped(atMS))
		_, err := d.tr.Append(transcript.Turn{Speaker: transcript.System, Text: reason, StartMS: atMS, EndMS: atMS, Confidence: 1})
		errs = append(errs, err)
	}
	at := d.stoppedAt
	errs = append(errs, d.update(ctx, func(c *store.Call) { c.RecordingStoppedAt = at }))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("server: call %s: stop recording: %w", d.id, err)
	}
	return nil
}

// SetLead records the lead the call was with, once known.
func (d *callData) SetLead(ctx context.Context, leadID string) error {
	if d == nil {
		return nil
	}
	if err := d.update(ctx, func(c *store.Call) { c.LeadID = leadID }); err != nil {
		return fmt.Errorf("server: call %s: set lead: %w", d.id, err)
	}
	return nil
}

// update changes the call's record (none without a store).
func (d *callData) update(ctx context.Context, change func(*store.Call)) error {
	if d.srv.api.store == nil {
		return nil
	}
	_, err := d.srv.api.store.Calls().Update(ctx, d.bizID, d.id, func(c *store.Call) error { change(c); return nil })
	return err
}

// Close finishes the call: the recording's last audio and final chunk,
// the transcript's end record, and the record's end time and outcome. It
// is idempotent and safe to call concurrently; later calls return the
// first one's result. It finishes even if ctx is cancelled (a call cut by
// shutdown still closes its files).
func (d *callData) Close(ctx context.Context, outcome store.Outcome) error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.closeErr
	}
	d.closed = true
	ctx, cancel := detach(ctx)
	defer cancel()
	ended := d.srv.now()
	var errs []error
	if d.recording.CompareAndSwap(true, false) {
		errs = append(errs, d.rec.Close())
	}
	if d.tr != nil {
		errs = append(errs, d.tr.End(ended, string(outcome)), d.tr.Close())
	}
	errs = append(errs, d.update(ctx, func(c *store.Call) { c.EndedAt, c.Outcome = ended, outcome }))
	if err := errors.Join(errs...); err != nil {
		d.closeErr = fmt.Errorf("server: call %s: close: %w", d.id, err)
	}
	return d.closeErr
}

// recoverCallData runs at start-up, before calls are taken: it finishes
// the recordings and transcripts a crash left unfinished (so that they
// decrypt and play up to the last second written) and marks their calls
// interrupted, with the end time the files show. It returns the IDs of
// the calls it recovered, sorted. Files of calls live on another node
// sharing the directories are locked and left alone.
func (s *Server) recoverCallData(ctx context.Context) ([]string, error) {
	if err := s.setupCallData(); err != nil {
		return nil, err
	}
	st := s.cdState()
	if err := st.ensureDirs(); err != nil {
		return nil, err
	}
	recIDs, recErr := recording.Recover(st.recDir, st.keyring)
	trIDs, trErr := transcript.Recover(st.trDir, st.keyring)
	errs := []error{recErr, trErr}
	ids := map[string]bool{}
	for _, id := range append(recIDs, trIDs...) {
		ids[id] = true
	}
	var out []string
	for id := range ids {
		out = append(out, id)
		if s.api.store == nil {
			continue
		}
		c, err := s.api.store.Calls().Lookup(ctx, id)
		if errors.Is(err, scheduling.ErrNotFound) {
			continue // files without a record: their timers still delete them
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ended := s.endOfFiles(c)
		_, err = s.api.store.Calls().Update(ctx, c.BusinessID, id, func(c *store.Call) error {
			if c.Outcome == "" {
				c.Outcome = store.OutcomeInterrupted
				if !ended.IsZero() {
					c.EndedAt = ended
				}
			}
			return nil
		})
		errs = append(errs, err)
	}
	sort.Strings(out)
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("server: recover call data: %w", err)
	}
	return out, nil
}

// endOfFiles estimates when a crashed call ended from what its files
// hold: the recording's length, or the last transcript turn's end.
func (s *Server) endOfFiles(c store.Call) time.Time {
	st := s.cdState()
	var d time.Duration
	if c.RecordingID != "" {
		if p, err := recording.Open(st.recDir, c.RecordingID, st.keyring); err == nil {
			d = p.Duration()
			_ = p.Close()
		}
	}
	if c.TranscriptID != "" {
		if t, err := transcript.Open(st.trDir, c.TranscriptID, st.keyring); err == nil {
			for _, turn := range t.Turns {
				d = max(d, time.Duration(turn.EndMS)*time.Millisecond)
			}
		}
	}
	if d == 0 {
		return time.Time{}
	}
	return c.StartedAt.Add(d)
}

// runRetention fires retention timers until ctx ends (see
// retention.Scheduler.Run). Without a store there are none.
func (s *Server) runRetention(ctx context.Context) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	if sched := s.cdState().sched; sched != nil {
		return sched.Run(ctx)
	}
	return nil
}

// SweepRetention fires every retention timer due now, once, for
// `frontdesk retention sweep`.
func (s *Server) SweepRetention(ctx context.Context) (retention.Result, error) {
	if err := s.setupCallData(); err != nil {
		return retention.Result{}, err
	}
	sched := s.cdState().sched
	if sched == nil {
		return retention.Result{}, errors.New("server: retention sweep: no store configured")
	}
	return sched.Sweep(ctx, s.now())
}

// replanRetention moves the expiries of every recording and transcript of
// business b to what its current plan says. Call it when a business's
// plan changes (API or config reload).
func (s *Server) replanRetention(ctx context.Context, b *configs.Business) error {
	if err := s.setupCallData(); err != nil {
		return err
	}
	sched := s.cdState().sched
	if sched == nil {
		return nil
	}
	_, err := sched.Replan(ctx, b.ID, s.planOf(b))
	return err
}
