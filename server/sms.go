package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	twilioapi "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
)

// SMS sending limits: each attempt's timeout, and how many attempts a
// confirmation gets when Twilio answers 429 or 5xx or cannot be reached.
const (
	smsTimeout  = 10 * time.Second
	smsAttempts = 3
)

// WithTwilioAPI points Twilio REST calls (SMS) at base, e.g. an
// httptest server speaking Twilio's API, instead of https://*.twilio.com.
// backoff is the delay before the first retry (doubling after); 0 keeps
// the default.
func WithTwilioAPI(base string, backoff time.Duration) Option {
	return func(s *Server) { s.api.twilioBase, s.api.smsBackoff = base, backoff }
}

// smsSender sends SMS through Twilio's Messages API with twilio-go. Safe
// for concurrent use.
type smsSender struct {
	rest    *twilioapi.RestClient
	from    string
	backoff time.Duration
}

// newSMSSender returns nil when Twilio SMS is not configured.
func newSMSSender(t configs.Twilio, base string, backoff time.Duration) *smsSender {
	if !t.SMSEnabled() {
		return nil
	}
	// No http.Client.Timeout: the transport bounds each attempt and reads
	// the whole answer, because twilio-go leaves error bodies unclosed,
	// which would hold the connection (and a timer goroutine) until the
	// timeout.
	hc := &http.Client{
		Transport: &twilioTransport{next: http.DefaultTransport, timeout: smsTimeout},
		// twilio-go does not follow redirects; neither do we.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if base != "" {
		if u, err := url.Parse(base); err == nil {
			hc.Transport.(*twilioTransport).to = u
		}
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(t.AccountSID, t.AuthToken), HTTPClient: hc}
	c.SetAccountSid(t.AccountSID)
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	return &smsSender{
		rest:    twilioapi.NewRestClientWithParams(twilioapi.ClientParams{Client: c}),
		from:    t.SMSFrom,
		backoff: backoff,
	}
}

// twilioTransport bounds each request to timeout, reads the whole answer
// (up to 1 MiB) and closes it before returning it from memory, and, when
// to is set, sends every request to its scheme and host instead of
// Twilio's, keeping the path: twilio-go builds https://api.twilio.com/...
// URLs itself.
type twilioTransport struct {
	next    http.RoundTripper
	timeout time.Duration
	to      *url.URL
}

func (t *twilioTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), t.timeout)
	defer cancel()
	r = r.Clone(ctx)
	if t.to != nil {
		r.URL.Scheme, r.URL.Host, r.Host = t.to.Scheme, t.to.Host, t.to.Host
	}
	res, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read twilio answer: %w", err)
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	return res, nil
}

// send sends body to the E.164 number to, retrying on 429, 5xx and
// connection failures; Twilio's 4xx answers (a bad number, an opted-out
// recipient) are final. The error says what Twilio said.
func (m *smsSender) send(ctx context.Context, to, body string) error {
	params := &openapi.CreateMessageParams{}
	if len(m.from) > 2 && m.from[:2] == "MG" {
		params.SetMessagingServiceSid(m.from)
	} else {
		params.SetFrom(m.from)
	}
	params.SetTo(to).SetBody(body)
	delay := m.backoff
	var err error
	for attempt := 1; ; attempt++ {
		_, err = m.rest.Api.CreateMessage(params)
		if err == nil || attempt == smsAttempts || !retryable(err) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sms: %w (after %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay *= 2
	}
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		return fmt.Errorf("twilio error %d (HTTP %d): %s", te.Code, te.Status, te.Message)
	}
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	return nil
}

// retryable reports whether another attempt may succeed: Twilio was busy
// (429), failed (5xx), or could not be reached. A timeout is not retried:
// the message may have gone out.
func retryable(err error) bool {
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		return te.Status == http.StatusTooManyRequests || te.Status >= 500
	}
	// An error status whose body was not Twilio's JSON (a proxy's page)
	// comes back as a decode error naming the status.
	const decodeErr = "error decoding the response for an HTTP error code: "
	if i := strings.Index(err.Error(), decodeErr); i >= 0 {
		code, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(err.Error()[i+len(decodeErr):], ":", 2)[0]))
		return code == http.StatusTooManyRequests || code >= 500
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// confirm sends the SMS confirmation of a booked (or moved) appointment
// when SMS is configured and the appointment has a phone number, and
// records the outcome on the appointment. A failure is logged and stored,
// never returned: the booking stands either way.
func (s *Server) confirm(ctx context.Context, e *bizEntry, a scheduling.Appointment, moved bool) scheduling.Appointment {
	return s.confirmFor(ctx, e.biz, a, moved, "api")
}

// confirmLater sends the SMS confirmation of an appointment the agent
// booked or moved on the phone, in the background: the caller never waits
// for Twilio, and a failure is logged, counted and stored on the
// appointment, never felt by the call. Run waits for it before returning;
// Force cuts it short.
func (s *Server) confirmLater(biz *configs.Business, a scheduling.Appointment, moved bool) {
	if s.api.sms == nil || a.Phone == "" || a.Status != scheduling.StatusBooked {
		return
	}
	s.agent.background.Add(1)
	go func() {
		defer s.agent.background.Done()
		ctx, cancel := context.WithTimeout(s.callsCtx, smsAttempts*smsTimeout+time.Minute)
		defer cancel()
		s.confirmFor(ctx, biz, a, moved, "call")
	}()
}

// confirmFor sends and records the confirmation; source labels the count
// ("api" or "call").
func (s *Server) confirmFor(ctx context.Context, biz *configs.Business, a scheduling.Appointment, moved bool, source string) scheduling.Appointment {
	if s.api.sms == nil || a.Phone == "" || a.Status != scheduling.StatusBooked {
		return a
	}
	log := s.log.With("business", biz.ID, "appointment", a.ID)
	status, msg := scheduling.SMSSent, ""
	defer func() { s.metrics.sms.WithLabelValues(source, string(status)).Inc() }()
	if err := s.api.sms.send(ctx, a.Phone, confirmationText(biz, a, moved)); err != nil {
		status, msg = scheduling.SMSFailed, err.Error()
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		log.Warn("sms confirmation failed", "phone", redactNumber(a.Phone), "err", err)
	}
	b, err := s.api.store.Appointments().SetSMS(ctx, biz.ID, a.ID, status, msg)
	if err != nil {
		log.Error("record sms status", "status", status, "err", err)
		a.SMSStatus, a.SMSError = status, msg
		return a
	}
	return b
}

// confirmationText is the SMS: business, service, local day and time.
func confirmationText(b *configs.Business, a scheduling.Appointment, moved bool) string {
	verb := "is booked"
	if moved {
		verb = "has moved"
	}
	when := a.Start.In(b.Location()).Format("Mon Jan 2 at 3:04 PM MST")
	text := fmt.Sprintf("%s: your %s %s for %s.", b.Name, a.Service.Name, verb, when)
	if len(b.Numbers) > 0 {
		text += " To change it, call " + b.Numbers[0] + "."
	}
	return text
}
