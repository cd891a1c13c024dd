package recording

import "time"

// Expiry returns when an artifact written at writtenAt and kept for keep
// expires. keep <= 0 means the plan keeps nothing: the artifact is not
// recorded at all, and ok is false.
func Expiry(writtenAt time.Time, keep time.Duration) (expires time.Time, ok bool) {
	if keep <= 0 {
		return time.Time{}, false
	}
	return writtenAt.Add(keep), true
}

// Plan is a retention plan: how long a call's recording and transcript
// are kept; zero keeps (and records) nothing. It mirrors configs.Plan
// field for field, so recording.Plan(cfg.Plans[name]) converts one without
// this package importing configs. A Plan is a value, safe for concurrent
// use.
type Plan struct {
	Recordings  time.Duration
	Transcripts time.Duration
}

// Records reports whether calls on this plan are recorded.
func (p Plan) Records() bool { return p.Recordings > 0 }

// RecordingExpiry is Expiry for a recording written at writtenAt.
func (p Plan) RecordingExpiry(writtenAt time.Time) (time.Time, bool) {
	return Expiry(writtenAt, p.Recordings)
}

// TranscriptExpiry is Expiry for a transcript written at writtenAt.
func (p Plan) TranscriptExpiry(writtenAt time.Time) (time.Time, bool) {
	return Expiry(writtenAt, p.Transcripts)
}
