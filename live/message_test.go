package live

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestMessageRoundTrip(t *testing.T) {
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, m := range []Message{
		{Kind: KindAudio, Rate: 8000, Caller: []int16{1, -2, 32767, -32768}, Agent: []int16{5, 6, 7, 8}},
		{Kind: KindEvent, Event: []byte(`{"type":"barge_in","seq":3,"t":10}`)},
		{Kind: KindInfo, Info: Info{ID: "call_1", Business: "clinic", Transport: "twilio", StartedAt: started, State: "speaking", Node: "a", Rate: 16000}},
		{Kind: KindEnd, Outcome: "completed"},
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Message
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("kind %d: %v", m.Kind, err)
		}
		if got.Kind != m.Kind || got.Rate != m.Rate || !slices.Equal(got.Caller, m.Caller) || !slices.Equal(got.Agent, m.Agent) ||
			!bytes.Equal(got.Event, m.Event) || !got.Info.StartedAt.Equal(m.Info.StartedAt) || got.Info.ID != m.Info.ID || got.Info.Rate != m.Info.Rate || got.Outcome != m.Outcome {
			t.Errorf("round trip of kind %d: got %+v, want %+v", m.Kind, got, m)
		}
	}
	// A short agent channel is padded with silence.
	b, _ := (&Message{Kind: KindAudio, Rate: 8000, Caller: []int16{1, 2}, Agent: nil}).MarshalBinary()
	var got Message
	if err := got.UnmarshalBinary(b); err != nil || !slices.Equal(got.Agent, []int16{0, 0}) {
		t.Errorf("padded agent: %v %v", got.Agent, err)
	}
}

func TestMessageBadInput(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          nil,
		"unknown kind":   {9},
		"short header":   {1, 0, 0},
		"zero rate":      {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0},
		"length":         {1, 0, 0, 0x1f, 0x40, 0, 2, 0, 0},
		"huge frame":     {1, 0, 0, 0x1f, 0x40, 0xff, 0xff},
		"event not json": append([]byte{2}, "{nope"...),
		"event array":    append([]byte{2}, "[1]"...),
		"info not json":  append([]byte{3}, "x"...),
	} {
		var m Message
		if err := m.UnmarshalBinary(b); !errors.Is(err, ErrMessage) {
			t.Errorf("%s: err %v, want ErrMessage", name, err)
		}
	}
	if _, err := (&Message{Kind: KindAudio, Caller: make([]int16, 2000)}).MarshalBinary(); err == nil {
		t.Error("encoding a 2000-sample frame: no error")
	}
}

func FuzzMessage(f *testing.F) {
	for _, m := range []Message{
		{Kind: KindAudio, Rate: 8000, Caller: []int16{1, 2}, Agent: []int16{3, 4}},
		{Kind: KindEvent, Event: []byte(`{"type":"x"}`)},
		{Kind: KindInfo, Info: Info{ID: "c"}},
		{Kind: KindEnd, Outcome: "done"},
	} {
		b, _ := m.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		var again Message
		if err := again.UnmarshalBinary(out); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		// Inject into a topic must never panic either.
		h := NewHub(Options{})
		tp := h.Mirror(Info{ID: "c", Business: "b"})
		l, _ := h.Listen(t.Context(), "c", "b", ListenOptions{})
		_ = tp.Inject(b)
		if l != nil {
			l.Close()
		}
	})
}
