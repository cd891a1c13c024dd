package scheduling

import (
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// LeadSource says where a lead came from.
type LeadSource string

// Lead sources.
const (
	SourceCall   LeadSource = "call"
	SourceWebRTC LeadSource = "webrtc"
	SourceAPI    LeadSource = "api"
)

// Valid reports whether s is one of the sources above.
func (s LeadSource) Valid() bool { return s == SourceCall || s == SourceWebRTC || s == SourceAPI }

// LeadStatus is where a lead stands in the funnel.
type LeadStatus string

// Lead statuses.
const (
	LeadNew       LeadStatus = "new"
	LeadQualified LeadStatus = "qualified"
	LeadBooked    LeadStatus = "booked"
	LeadLost      LeadStatus = "lost"
)

// Valid reports whether s is one of the statuses above.
func (s LeadStatus) Valid() bool {
	return s == LeadNew || s == LeadQualified || s == LeadBooked || s == LeadLost
}

// Lead is a prospective customer. Within a business a non-empty Phone
// identifies the lead: a second call from the same number updates it.
type Lead struct {
	ID             string
	BusinessID     string
	Name           string
	Phone          string // E.164, or empty (a browser caller who gave none)
	Email          string
	Company        string
	Notes          string
	Source         LeadSource
	Status         LeadStatus
	Score          int      // 0–100, higher is warmer
	CallIDs        []string // calls with this lead, oldest first
	AppointmentIDs []string // appointments booked by this lead, oldest first
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// LogValue keeps personal data out of logs.
func (l Lead) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", l.ID),
		slog.String("business_id", l.BusinessID),
		slog.String("status", string(l.Status)),
		slog.String("phone", RedactPhone(l.Phone)),
	)
}

// Normalize returns l with trimmed text, a phone number in E.164 (raw
// numbers without a country code use defaultRegion, e.g. "US"), defaults
// for an empty Source (api) and Status (new), and the result validated.
// Stores call it with an empty region, so they accept only E.164 numbers.
func (l Lead) Normalize(defaultRegion string) (Lead, error) {
	l.Name = strings.TrimSpace(l.Name)
	l.Email = strings.TrimSpace(l.Email)
	l.Company = strings.TrimSpace(l.Company)
	l.Notes = strings.TrimSpace(l.Notes)
	if l.Phone = strings.TrimSpace(l.Phone); l.Phone != "" {
		p, err := NormalizePhone(l.Phone, defaultRegion)
		if err != nil {
			return Lead{}, fmt.Errorf("lead: %w", err)
		}
		l.Phone = p
	}
	if l.Source == "" {
		l.Source = SourceAPI
	}
	if l.Status == "" {
		l.Status = LeadNew
	}
	return l, l.Validate()
}

// Validate checks l as it would be stored.
func (l Lead) Validate() error {
	if l.Name == "" && l.Phone == "" && l.Email == "" {
		return fmt.Errorf("%w: lead needs a name, a phone number or an email", ErrInvalid)
	}
	for _, f := range []struct {
		what string
		s    string
		max  int
	}{{"lead name", l.Name, maxNameLen}, {"lead company", l.Company, maxNameLen}, {"lead email", l.Email, maxNameLen}, {"lead notes", l.Notes, maxNotesLen}} {
		if err := checkText(f.what, f.s, f.max, false); err != nil {
			return err
		}
	}
	if l.Phone != "" {
		if p, err := NormalizePhone(l.Phone, ""); err != nil || p != l.Phone {
			return fmt.Errorf("%w: lead phone number is not in E.164 form", ErrInvalid)
		}
	}
	if l.Email != "" {
		if a, err := mail.ParseAddress(l.Email); err != nil || a.Address != l.Email {
			return fmt.Errorf("%w: lead email is not a plain address", ErrInvalid)
		}
	}
	switch {
	case !l.Source.Valid():
		return fmt.Errorf("%w: lead source %q (want call, webrtc or api)", ErrInvalid, l.Source)
	case !l.Status.Valid():
		return fmt.Errorf("%w: lead status %q (want new, qualified, booked or lost)", ErrInvalid, l.Status)
	case l.Score < 0 || l.Score > 100:
		return fmt.Errorf("%w: lead score %d is not in 0..100", ErrInvalid, l.Score)
	case len(l.CallIDs) > 1000 || len(l.AppointmentIDs) > 1000:
		return fmt.Errorf("%w: lead links too many calls or appointments", ErrInvalid)
	}
	return nil
}

// Merge folds a newer sighting in of the same lead into l and returns the
// result; l's ID, business, source (first touch) and creation time stay.
// Non-empty name, phone, email and company replace l's; notes not already
// present are appended on a new line; a non-zero score replaces l's; a
// status other than new replaces l's (so a repeat call does not demote a
// booked lead back to new); call and appointment IDs are unioned in order.
func (l Lead) Merge(in Lead) Lead {
	out := l
	out.CallIDs = slices.Clone(l.CallIDs)
	out.AppointmentIDs = slices.Clone(l.AppointmentIDs)
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&out.Name, in.Name}, {&out.Phone, in.Phone}, {&out.Email, in.Email}, {&out.Company, in.Company},
	} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	if in.Notes != "" && !strings.Contains(out.Notes, in.Notes) {
		if out.Notes != "" {
			out.Notes += "\n"
		}
		out.Notes += in.Notes
	}
	if out.Source == "" {
		out.Source = in.Source
	}
	if in.Score != 0 {
		out.Score = in.Score
	}
	if in.Status != "" && in.Status != LeadNew {
		out.Status = in.Status
	}
	for _, id := range in.CallIDs {
		out = out.WithCall(id)
	}
	for _, id := range in.AppointmentIDs {
		out = out.WithAppointment(id)
	}
	return out
}

// WithCall returns l with callID linked (once).
func (l Lead) WithCall(callID string) Lead {
	if callID != "" && !slices.Contains(l.CallIDs, callID) {
		l.CallIDs = append(slices.Clip(l.CallIDs), callID)
	}
	return l
}

// WithAppointment returns l with appointmentID linked (once); a new or
// qualified lead becomes booked.
func (l Lead) WithAppointment(appointmentID string) Lead {
	if appointmentID != "" && !slices.Contains(l.AppointmentIDs, appointmentID) {
		l.AppointmentIDs = append(slices.Clip(l.AppointmentIDs), appointmentID)
	}
	if l.Status == LeadNew || l.Status == LeadQualified {
		l.Status = LeadBooked
	}
	return l
}
