package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	twilioapi "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"

	"github.com/frontdesk/frontdesk/live"
)

// Supervisor actions on a live call (docs/supervisors.md): whisper,
// transfer (take over) and hang up.

const (
	maxWhisper      = 500 // characters
	transferTimeout = 10 * time.Second
	transferSay     = "Please hold while I transfer your call."
	// Outcomes of live calls ended by something other than the caller or
	// the agent's goodbye.
	outcomeTransferred = "transferred"
	outcomeHangup      = "hangup"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// liveCallOf returns the call id of business in progress on this node; a
// call of another business is as unknown as one that never was.
func (s *Server) liveCallOf(id, business string) (*call, error) {
	s.mu.Lock()
	c := s.live[id]
	s.mu.Unlock()
	if c == nil || c.business.ID != business {
		return nil, errorf(http.StatusNotFound, "not_found", "no live call "+id, nil)
	}
	return c, nil
}

type whisperRequest struct {
	Text string `json:"text"`
}

type acceptedView struct {
	Status string `json:"status"`
}

// apiWhisper is POST /v1/calls/{id}/whisper.
func (s *Server) apiWhisper(w http.ResponseWriter, r *http.Request, c *caller) error {
	lc, err := s.liveCallOf(r.PathValue("id"), c.key.BusinessID)
	if err != nil {
		return err
	}
	var req whisperRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	text := strings.TrimSpace(req.Text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return errorf(http.StatusBadRequest, "invalid", "text is empty", nil)
	case n > maxWhisper:
		return errorf(http.StatusBadRequest, "invalid", fmt.Sprintf("text has %d characters; at most %d", n, maxWhisper), nil)
	}
	sess := lc.session.Load()
	if sess == nil {
		return errorf(http.StatusConflict, "no_agent", "no agent is talking on this call", nil)
	}
	sess.Whisper(text)
	lc.live.event(live.Event{Type: live.EventWhisper, Text: text})
	lc.log.Info("supervisor whispered", "key_id", c.key.ID)
	writeJSON(w, http.StatusAccepted, acceptedView{Status: "accepted"})
	return nil
}

type transferRequest struct {
	To string `json:"to"`
}

// apiTransfer is POST /v1/calls/{id}/transfer: Twilio says the caller is
// being put through and dials the number; the agent leaves the call.
func (s *Server) apiTransfer(w http.ResponseWriter, r *http.Request, c *caller) error {
	lc, err := s.liveCallOf(r.PathValue("id"), c.key.BusinessID)
	if err != nil {
		return err
	}
	var req transferRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	to := strings.TrimSpace(req.To)
	if to == "" {
		to = lc.business.TransferNumber
	}
	switch {
	case lc.transport != "twilio" || lc.sid == "":
		return errorf(http.StatusConflict, "not_transferable", "only phone calls can be transferred; this is a "+lc.transport+" call", nil)
	case to == "":
		return errorf(http.StatusUnprocessableEntity, "no_transfer_number", "give \"to\" (E.164): the business has no transfer number", nil)
	case !e164.MatchString(to):
		return errorf(http.StatusBadRequest, "invalid", fmt.Sprintf("to %q: want an E.164 number such as +12125550199", to), nil)
	}
	if err := s.transfer(lc, to, true); err != nil {
		return err
	}
	lc.log.Info("supervisor transferred the call", "key_id", c.key.ID, "to", redactNumber(to))
	writeJSON(w, http.StatusAccepted, acceptedView{Status: "accepted"})
	return nil
}

// apiHangup is POST /v1/calls/{id}/hangup.
func (s *Server) apiHangup(w http.ResponseWriter, r *http.Request, c *caller) error {
	lc, err := s.liveCallOf(r.PathValue("id"), c.key.BusinessID)
	if err != nil {
		return err
	}
	lc.live.setOutcome(outcomeHangup)
	// Ending our side of the stream ends a Twilio call (nothing follows
	// <Connect> in its TwiML) and a WebRTC call; the agent's reply is cut.
	hangUp(lc.tr)
	lc.log.Info("supervisor hung up the call", "key_id", c.key.ID)
	writeJSON(w, http.StatusAccepted, acceptedView{Status: "accepted"})
	return nil
}

// transfer redirects the phone call to number with Twilio's Calls API
// (optionally saying so first), then leaves the call.
func (s *Server) transfer(c *call, number string, say bool) error {
	rest, err := s.twilioCalls()
	if err != nil {
		return err
	}
	var verbs []twiml.Element
	if say {
		verbs = append(verbs, twiml.VoiceSay{Message: transferSay})
	}
	verbs = append(verbs, twiml.VoiceDial{Number: number})
	doc, err := twiml.Voice(verbs)
	if err != nil {
		return fmt.Errorf("transfer: twiml: %w", err)
	}
	// twilio-go takes no context; twilioTransport bounds the request.
	if _, err := rest.Api.UpdateCall(c.sid, (&openapi.UpdateCallParams{}).SetTwiml(doc)); err != nil {
		var te *twclient.TwilioRestError
		if errors.As(err, &te) {
			return errorf(http.StatusBadGateway, "twilio_error", fmt.Sprintf("Twilio refused the transfer: %s (code %d)", te.Message, te.Code), err)
		}
		return errorf(http.StatusBadGateway, "twilio_error", "could not reach Twilio to transfer the call", err)
	}
	c.live.event(live.Event{Type: live.EventTransfer, To: number})
	c.live.setOutcome(outcomeTransferred)
	// Twilio now plays the new TwiML and closes the stream; close our side
	// too so the call's goroutines end at once.
	hangUp(c.tr)
	return nil
}

// endByAgent ends a call whose agent said goodbye or asked to transfer:
// a transfer the agent announced is carried out through Twilio; anything
// else (or a failed transfer) hangs up.
func (c *call) endByAgent() {
	if to := c.live.pendingTransfer(); to != "" && c.transport == "twilio" && c.sid != "" {
		if err := c.srv.transfer(c, to, false); err == nil {
			c.log.Info("call transferred by the agent", "to", redactNumber(to))
			return
		} else {
			c.log.Error("transfer failed: hanging up", "to", redactNumber(to), "err", err)
		}
	}
	hangUp(c.tr)
}

// twilioREST is the Calls API client, built on first use.
type twilioREST struct {
	once sync.Once
	rest *twilioapi.RestClient
}

func (s *Server) twilioCalls() (*twilioapi.RestClient, error) {
	t := s.cfg.Twilio
	if t.AccountSID == "" || t.AuthToken == "" {
		return nil, errorf(http.StatusServiceUnavailable, "twilio_not_configured", "transfers need twilio.account_sid in the configuration", nil)
	}
	s.callsAPI.once.Do(func() {
		hc := &http.Client{
			Transport:     &twilioTransport{next: http.DefaultTransport, timeout: transferTimeout},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		if s.api.twilioBase != "" {
			if u, err := url.Parse(s.api.twilioBase); err == nil {
				hc.Transport.(*twilioTransport).to = u
			}
		}
		cl := &twclient.Client{Credentials: twclient.NewCredentials(t.AccountSID, t.AuthToken), HTTPClient: hc}
		cl.SetAccountSid(t.AccountSID)
		s.callsAPI.rest = twilioapi.NewRestClientWithParams(twilioapi.ClientParams{Client: cl})
	})
	return s.callsAPI.rest, nil
}
