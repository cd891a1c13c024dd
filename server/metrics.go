package server

import (
	"time"

	"github.com/frontdesk/frontdesk/agent"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series. Safe for concurrent use.
type metrics struct {
	reg          *prometheus.Registry
	activeCalls  prometheus.Gauge
	calls        *prometheus.CounterVec
	framesIn     prometheus.Counter
	framesOut    prometheus.Counter
	framesLost   prometheus.Counter
	framesDrop   prometheus.Counter
	lateness     prometheus.Histogram
	streamEvents *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	bargeIns     prometheus.Counter
	fallbacks    *prometheus.CounterVec
	sms          *prometheus.CounterVec // SMS confirmations by source and status
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		activeCalls: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "frontdesk_calls_active", Help: "Calls in progress on this node.",
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_calls_total", Help: "Calls ended, by transport and outcome.",
		}, []string{"transport", "outcome"}),
		framesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_frames_in_total", Help: "20 ms caller audio frames received.",
		}),
		framesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_frames_out_total", Help: "20 ms agent audio frames sent.",
		}),
		framesLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_frames_lost_total", Help: "Inbound messages missing from the sequence numbering.",
		}),
		framesDrop: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "frontdesk_frames_dropped_total", Help: "Frames dropped because a call fell behind.",
		}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "frontdesk_outbound_frame_lateness_seconds",
			Help:    "How late each outbound frame left compared with its pacing schedule.",
			Buckets: []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32},
		}),
		streamEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_twilio_stream_events_total", Help: "Stream status callbacks from Twilio.",
		}, []string{"event"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "frontdesk_rejected_total", Help: "Requests refused before any call state, by reason.",
		}, []string{"reason"}),
	}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "frontdesk_agent_latency_seconds",
		Help:    "Time from the end of the caller's speech to each stage of the agent's reply.",
		Buckets: []float64{0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5},
	}, []string{"stage"})
	m.bargeIns = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "frontdesk_agent_barge_ins_total", Help: "Times a caller interrupted the agent.",
	})
	m.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frontdesk_provider_fallbacks_total",
		Help: "Turns a cloud provider failed or was late for, answered by the embedded engine.",
	}, []string{"kind", "reason"})
	m.sms = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frontdesk_sms_confirmations_total", Help: "SMS confirmations of bookings, by source (api, call) and status (sent, failed).",
	}, []string{"source", "status"})
	m.reg.MustRegister(m.latency, m.bargeIns, m.fallbacks, m.sms)
	m.reg.MustRegister(m.activeCalls, m.calls, m.framesIn, m.framesOut, m.framesLost, m.framesDrop,
		m.lateness, m.streamEvents, m.rejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// The twilio.Metrics methods: called once per frame from session loops.
func (m *metrics) FrameIn()         { m.framesIn.Inc() }
func (m *metrics) FramesLost(n int) { m.framesLost.Add(float64(n)) }
func (m *metrics) FrameOut(late time.Duration) {
	m.framesOut.Inc()
	m.lateness.Observe(late.Seconds())
}

// observeLatency records one agent turn's stages.
func (m *metrics) observeLatency(l *agent.Latency) {
	for _, st := range []struct {
		stage string
		d     time.Duration
	}{
		{"stt_final", l.STTFinal}, {"first_token", l.FirstToken}, {"first_audio", l.FirstAudio},
		{"first_frame", l.FirstFrame}, {"first_mark", l.FirstMark},
	} {
		if st.d > 0 {
			m.latency.WithLabelValues(st.stage).Observe(st.d.Seconds())
		}
	}
}
