package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/frontdesk/frontdesk/agent/tts/flite"
	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/media"
	"github.com/frontdesk/frontdesk/media/twilio"
	"github.com/frontdesk/frontdesk/media/twilio/sim"
)

// simFlags are the flags call and load share. Defaults come from the
// configuration file when it loads, so that `frontdesk call -wav x.wav`
// works against `make run` with nothing else.
type simFlags struct {
	server, public, token, to, from, config string
}

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "configs/example.yaml", "configuration to take defaults from (server URL, auth token, number)")
	fs.StringVar(&f.server, "server", "", "server base URL (default: the config's listen address on localhost)")
	fs.StringVar(&f.public, "public-url", "", "the server's public URL, which Twilio signs (default: the config's server.public_url)")
	fs.StringVar(&f.token, "token", "", "Twilio auth token (default: $TWILIO_AUTH_TOKEN, else the config's)")
	fs.StringVar(&f.to, "to", "", "number called (default: the config's first business)")
	fs.StringVar(&f.from, "from", "+15555550123", "caller's number")
}

func (f *simFlags) options() (sim.Options, *configs.Config, error) {
	o := sim.Options{Server: f.server, PublicURL: f.public, AuthToken: f.token, To: f.to, From: f.from}
	cfg, err := configs.Load(f.config)
	if err == nil {
		if o.Server == "" {
			o.Server = cfg.Server.PublicURL
		}
		if o.PublicURL == "" {
			o.PublicURL = cfg.Server.PublicURL
		}
		if o.AuthToken == "" {
			o.AuthToken = cfg.Twilio.AuthToken
		}
		if o.To == "" && len(cfg.Businesses) > 0 && len(cfg.Businesses[0].Numbers) > 0 {
			o.To = cfg.Businesses[0].Numbers[0]
		}
	} else if f.config != "" {
		fmt.Fprintln(os.Stderr, "frontdesk: no defaults from config:", err)
		cfg = nil
	}
	if t := os.Getenv("TWILIO_AUTH_TOKEN"); t != "" && f.token == "" {
		o.AuthToken = t
	}
	if o.Server == "" || o.To == "" || o.AuthToken == "" {
		return o, cfg, errors.New("need -server, -to and -token (or a -config that gives them)")
	}
	return o, cfg, nil
}

func callCmd(args []string) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	var sf simFlags
	sf.register(fs)
	wav := fs.String("wav", "", "WAV file the caller says (any rate; converted to 8 kHz μ-law)")
	out := fs.String("out", "", "write the audio the caller heard to this WAV file")
	digits := fs.String("digits", "", "keys to press after the audio, e.g. 12#")
	tail := fs.Duration("tail", 3*time.Second, "how long to stay on the line after the audio")
	var say multiFlag
	fs.Var(&say, "say", "a line the caller says, after the agent's previous reply (repeatable; synthesised with the embedded TTS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, cfg, err := sf.options()
	if err != nil {
		return err
	}
	if len(say) > 0 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		g, ex, res, err := converse(ctx, o, cfg, say)
		if err != nil {
			return err
		}
		fmt.Print(sayCmdOutput(g, ex, res))
		return writeOut(*out, res)
	}
	if *wav != "" {
		o.Audio, err = loadWAV8k(*wav)
		if err != nil {
			return err
		}
	}
	o.Digits, o.Tail = *digits, *tail
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := sim.Call(ctx, o)
	if errors.Is(err, sim.ErrNotConnected) {
		fmt.Printf("not connected; the server said: %q\n", res.Said)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Printf("call %s: frames sent %d, received %d; marks %d sent, %d echoed; clears %d\n",
		res.CallSID, res.FramesSent, res.FramesReceived, len(res.Marks), len(res.MarksEchoed), res.Clears)
	fmt.Printf("outbound gaps: p50 %v, p99 %v, max %v; heard %.2fs of audio (%.1f dBFS)\n",
		res.GapPercentile(50).Round(time.Millisecond/10), res.GapPercentile(99).Round(time.Millisecond/10),
		res.MaxGap().Round(time.Millisecond/10), float64(len(res.Out))/twilio.Rate, media.DBFS(media.RMS(res.Out)))
	if res.CloseCode != 0 {
		fmt.Printf("server closed the stream: %d %s\n", res.CloseCode, res.CloseText)
	}
	return writeOut(*out, res)
}

// writeOut writes what the caller heard to path, if set.
func writeOut(path string, res *sim.Result) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := media.WriteWAV(f, &media.Audio{Rate: twilio.Rate, Channels: 1, Samples: res.Out}); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", path)
	return nil
}

// loadWAV8k reads a WAV file as 8 kHz mono PCM16.
func loadWAV8k(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := media.ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pcm := a.Samples
	switch a.Channels {
	case 1:
	case 2:
		pcm = media.ToMono(nil, a.Samples)
	default:
		return nil, fmt.Errorf("%s: %d channels; want mono or stereo", path, a.Channels)
	}
	if a.Rate == twilio.Rate {
		return pcm, nil
	}
	r, err := media.NewResampler(a.Rate, twilio.Rate)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r.Process(nil, pcm), nil
}

func loadCmd(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var sf simFlags
	sf.register(fs)
	calls := fs.Int("calls", 100, "concurrent calls")
	dur := fs.Duration("duration", 30*time.Second, "audio each call streams")
	stagger := fs.Duration("stagger", 0, "spread call starts over this window (default min(5s, duration/4))")
	var say multiFlag
	fs.Var(&say, "say", "scripted caller lines for full agent calls (repeatable); without it calls stream a test signal for echo mode")
	// Ramp mode: steps of growing load until frames come late.
	ramp := fs.Bool("ramp", false, "ramp: run steps of -step more calls (each -step-duration long) until frames come late; report the knee")
	start := fs.Int("start", 0, "ramp: calls in the first step (default -step)")
	step := fs.Int("step", 10, "ramp: calls added per step")
	stepDur := fs.Duration("step-duration", 20*time.Second, "ramp: audio each call of a step streams")
	maxCalls := fs.Int("max", 600, "ramp: largest step")
	lateLimit := fs.Float64("late-limit", 0.001, "ramp: largest fraction of frames late (gap > 40 ms) in a good step")
	pacingLimit := fs.Duration("pacing-limit", 0, "ramp: also end at a step whose server pacing lateness p99 exceeds this (agent calls: use this with -late-limit -1)")
	replyLimit := fs.Duration("reply-limit", 0, "ramp: with -say, also end at a step whose reply latency p95 exceeds this")
	retries := fs.Int("retries", 1, "ramp: re-run a bad step this many times before it ends the ramp")
	// Soak mode: a fixed load for a long time.
	soak := fs.Duration("soak", 0, "soak: keep -calls calls up for this long, each -duration long and replaced when it ends")
	sample := fs.Duration("sample", 30*time.Second, "soak: how often to read the server's memory and goroutines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, _, err := sf.options()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(say) > 0 {
		tts, err := flite.New(flite.Options{})
		if err != nil {
			return err
		}
		for _, l := range say {
			a, err := synthesize(ctx, tts, l)
			if err != nil {
				return err
			}
			o.Turns = append(o.Turns, a)
		}
	}
	lo := sim.LoadOptions{Call: o, Calls: *calls, Duration: *dur, Stagger: *stagger}
	switch {
	case *ramp:
		return rampRun(ctx, sim.RampOptions{Load: lo, Start: *start, Step: *step, Max: *maxCalls, StepDuration: *stepDur,
			LateLimit: *lateLimit, PacingLimit: *pacingLimit, ReplyLimit: *replyLimit, Retries: *retries})
	case *soak > 0:
		fmt.Printf("soak: %d calls of %v for %v\n", *calls, *dur, *soak)
		rep, err := sim.Soak(ctx, sim.SoakOptions{Call: o, Calls: *calls, Duration: *soak, CallDuration: *dur, Sample: *sample})
		if rep != nil {
			fmt.Print(rep.String())
		}
		return err
	}
	rep, err := sim.Load(ctx, lo)
	if rep != nil {
		fmt.Print(rep.String())
	}
	return err
}

// rampRun runs a ramp, printing each step as a Markdown table row as it
// ends, then the knee.
func rampRun(ctx context.Context, ro sim.RampOptions) error {
	mode := "echo (test signal)"
	if ro.Load.Call.Turns != nil {
		mode = fmt.Sprintf("full agent (%d scripted turns)", len(ro.Load.Call.Turns))
	}
	crit := "no failed call"
	if ro.LateLimit == 0 {
		ro.LateLimit = 0.001
	}
	if ro.LateLimit >= 0 {
		crit += fmt.Sprintf(", ≤ %.3f%% of frames late (gap > 40 ms)", 100*ro.LateLimit)
	}
	if ro.PacingLimit > 0 {
		crit += fmt.Sprintf(", server pacing lateness p99 ≤ %v", ro.PacingLimit)
	}
	if ro.ReplyLimit > 0 {
		crit += fmt.Sprintf(", reply p95 ≤ %v", ro.ReplyLimit)
	}
	fmt.Printf("ramp: %s calls, %d → %d by %d, %v each; a step is good with %s\n",
		mode, max(ro.Start, ro.Step), ro.Max, ro.Step, ro.StepDuration, crit)
	fmt.Println("(the load tool runs on the same machine: its own CPU is the \"load tool CPU\" column)")
	sim.WriteRampHeader(os.Stdout)
	ro.OnStep = func(s sim.RampStep) { sim.WriteRampStep(os.Stdout, s) }
	rep, err := sim.Ramp(ctx, ro)
	if rep != nil {
		fmt.Print(rep.String())
	}
	return err
}
