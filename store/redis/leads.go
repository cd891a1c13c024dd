package redis

import (
	"context"
	"encoding/json"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type leads Store

var _ store.Leads = (*leads)(nil)

type leadRec struct {
	ID             string   `json:"id"`
	BusinessID     string   `json:"business_id"`
	Name           string   `json:"name"`
	Phone          string   `json:"phone"`
	Email          string   `json:"email"`
	Company        string   `json:"company"`
	Notes          string   `json:"notes"`
	Source         string   `json:"source"`
	Status         string   `json:"status"`
	Score          int      `json:"score"`
	CallIDs        []string `json:"call_ids"`
	AppointmentIDs []string `json:"appointment_ids"`
	CreatedNS      int64    `json:"created_ns"`
	UpdatedNS      int64    `json:"updated_ns"`
}

func encodeLead(l scheduling.Lead) string {
	b, _ := json.Marshal(leadRec{ // strings, ints and string slices always encode
		ID: l.ID, BusinessID: l.BusinessID, Name: l.Name, Phone: l.Phone, Email: l.Email, Company: l.Company,
		Notes: l.Notes, Source: string(l.Source), Status: string(l.Status), Score: l.Score,
		CallIDs: l.CallIDs, AppointmentIDs: l.AppointmentIDs, CreatedNS: toNS(l.CreatedAt), UpdatedNS: toNS(l.UpdatedAt),
	})
	return string(b)
}

func decodeLead(raw string) (scheduling.Lead, error) {
	var r leadRec
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return scheduling.Lead{}, fmt.Errorf("decode lead: %w", err)
	}
	return scheduling.Lead{
		ID: r.ID, BusinessID: r.BusinessID, Name: r.Name, Phone: r.Phone, Email: r.Email, Company: r.Company,
		Notes: r.Notes, Source: scheduling.LeadSource(r.Source), Status: scheduling.LeadStatus(r.Status), Score: r.Score,
		CallIDs: r.CallIDs, AppointmentIDs: r.AppointmentIDs, CreatedAt: fromNS(r.CreatedNS), UpdatedAt: fromNS(r.UpdatedNS),
	}, nil
}

// putLeadScript creates, replaces or deletes a lead and keeps the phone
// index (phone → lead ID) and the list index in step, atomically:
//
//	KEYS: 1 record, 2 phone key of the new record, 3 phone key of the old
//	      record, 4 index (zset of IDs, all score 0: ordered by ID)
//	ARGV: 1 id, 2 expected current record ("" = must not exist), 3 new record
//	      ("" = delete), 4 "1" if KEYS[2] is used, 5 "1" if KEYS[3] is used,
//	      6 record key prefix (to check that a phone's owner still exists)
var putLeadScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[2] == '' then
  if cur then return {'exists'} end
elseif cur ~= ARGV[2] then
  return {'stale'}
end
if ARGV[3] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  if ARGV[5] == '1' and redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
  return {'ok'}
end
if ARGV[4] == '1' then
  local owner = redis.call('GET', KEYS[2])
  if owner and owner ~= ARGV[1] and redis.call('EXISTS', ARGV[6] .. owner) == 1 then return {'dup', owner} end
end
if ARGV[5] == '1' and KEYS[3] ~= KEYS[2] and redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if ARGV[4] == '1' then redis.call('SET', KEYS[2], ARGV[1]) end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return {'ok'}
`)

func (s *leads) key(businessID, id string) string { return (*Store)(s).bkey(businessID, "lead", id) }

func (s *leads) phoneKey(businessID, phone string) string {
	return (*Store)(s).bkey(businessID, "phone", phone)
}

// put writes next over prev (prevRaw "" creates; next.ID "" deletes prev).
func (s *leads) put(ctx context.Context, businessID string, prev scheduling.Lead, prevRaw string, next *scheduling.Lead) (string, string, error) {
	id, newRaw, newPhone := prev.ID, "", ""
	if next != nil {
		id, newRaw, newPhone = next.ID, encodeLead(*next), next.Phone
	}
	flag := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	rec := s.key(businessID, id)
	k2, k3 := rec, rec // unused slots still need a key of this business
	if newPhone != "" {
		k2 = s.phoneKey(businessID, newPhone)
	}
	if prev.Phone != "" {
		k3 = s.phoneKey(businessID, prev.Phone)
	}
	res, err := (*Store)(s).result(ctx, putLeadScript, []string{rec, k2, k3, (*Store)(s).bkey(businessID, "leads")},
		id, prevRaw, newRaw, flag(newPhone != ""), flag(prev.Phone != ""), s.key(businessID, ""))
	if err != nil {
		return "", "", err
	}
	detail := ""
	if len(res) > 1 {
		detail = res[1]
	}
	return res[0], detail, nil
}

func (s *leads) getRaw(ctx context.Context, businessID, id string) (scheduling.Lead, string, error) {
	if !store.ValidID(id) || !store.ValidID(businessID) {
		return scheduling.Lead{}, "", store.NotFound("lead", id)
	}
	raw, ok, err := (*Store)(s).getString(ctx, s.key(businessID, id))
	if err != nil {
		return scheduling.Lead{}, "", err
	}
	if !ok {
		return scheduling.Lead{}, "", store.NotFound("lead", id)
	}
	l, err := decodeLead(raw)
	return l, raw, err
}

func (s *leads) Upsert(ctx context.Context, businessID string, in scheduling.Lead) (scheduling.Lead, bool, error) {
	const op = "upsert lead"
	if err := store.CheckBusinessID(businessID); err != nil {
		return scheduling.Lead{}, false, fmt.Errorf("redis: %s: %w", op, err)
	}
	in, err := in.Normalize("")
	if err != nil {
		return scheduling.Lead{}, false, fmt.Errorf("redis: %s: %w", op, err)
	}
	for range maxAttempts {
		now := s.now()
		if in.Phone != "" {
			owner, found, err := (*Store)(s).getString(ctx, s.phoneKey(businessID, in.Phone))
			if err != nil {
				return scheduling.Lead{}, false, fmt.Errorf("redis: %s: %w", op, err)
			}
			if found {
				cur, raw, err := s.getRaw(ctx, businessID, owner)
				if err == nil {
					out := cur.Merge(in)
					out.UpdatedAt = now
					if err := out.Validate(); err != nil {
						return scheduling.Lead{}, false, fmt.Errorf("redis: %s: %w", op, err)
					}
					status, _, err := s.put(ctx, businessID, cur, raw, &out)
					if err != nil {
						return scheduling.Lead{}, false, fmt.Errorf("redis: %s: %w", op, err)
					}
					if status == "ok" {
						return out, false, nil
					}
					continue // changed under us: look again
				}
				if !isNotFound(err) {
					return scheduling.Lead{}, false, fmt.Errorf("redis: %s: %w", op, err)
				}
				// The owner was deleted meanwhile: create.
			}
		}
		out := in
		out.ID, out.BusinessID, out.CreatedAt, out.UpdatedAt = store.NewID("lead", now), businessID, now, now
		status, _, err := s.put(ctx, businessID, scheduling.Lead{}, "", &out)
		if err != nil {
			return scheduling.Lead{}, false, fmt.Errorf("redis: %s: %w", op, err)
		}
		if status == "ok" {
			return out, true, nil
		}
		// "dup": another upsert created the lead for this phone first; merge into it.
	}
	return scheduling.Lead{}, false, tooBusy(op)
}

func (s *leads) Get(ctx context.Context, businessID, id string) (scheduling.Lead, error) {
	l, _, err := s.getRaw(ctx, businessID, id)
	if err != nil {
		return scheduling.Lead{}, fmt.Errorf("redis: get lead: %w", err)
	}
	return l, nil
}

func (s *leads) Update(ctx context.Context, businessID string, in scheduling.Lead) (scheduling.Lead, error) {
	const op = "update lead"
	keepSource, keepStatus := in.Source == "", in.Status == ""
	in, err := in.Normalize("")
	if err != nil {
		return scheduling.Lead{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	return s.modify(ctx, op, businessID, in.ID, func(cur scheduling.Lead) (scheduling.Lead, error) {
		out := cur
		out.Name, out.Phone, out.Email, out.Company, out.Notes = in.Name, in.Phone, in.Email, in.Company, in.Notes
		out.Score = in.Score
		if !keepSource {
			out.Source = in.Source
		}
		if !keepStatus {
			out.Status = in.Status
		}
		return out, nil
	})
}

func (s *leads) LinkCall(ctx context.Context, businessID, id, callID string) (scheduling.Lead, error) {
	return s.link(ctx, "link call to lead", businessID, id, callID, scheduling.Lead.WithCall)
}

func (s *leads) LinkAppointment(ctx context.Context, businessID, id, appointmentID string) (scheduling.Lead, error) {
	return s.link(ctx, "link appointment to lead", businessID, id, appointmentID, scheduling.Lead.WithAppointment)
}

func (s *leads) link(ctx context.Context, op, businessID, id, other string, with func(scheduling.Lead, string) scheduling.Lead) (scheduling.Lead, error) {
	if other == "" || len(other) > 200 {
		return scheduling.Lead{}, fmt.Errorf("redis: %s: %w: ID must be 1-200 bytes", op, scheduling.ErrInvalid)
	}
	return s.modify(ctx, op, businessID, id, func(cur scheduling.Lead) (scheduling.Lead, error) {
		out := with(cur, other)
		return out, out.Validate()
	})
}

// modify applies change to the lead with compare-and-set, retrying when
// another writer changed it first.
func (s *leads) modify(ctx context.Context, op, businessID, id string, change func(scheduling.Lead) (scheduling.Lead, error)) (scheduling.Lead, error) {
	for range maxAttempts {
		cur, raw, err := s.getRaw(ctx, businessID, id)
		if err != nil {
			return scheduling.Lead{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		out, err := change(cur)
		if err != nil {
			return scheduling.Lead{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		out.UpdatedAt = s.now()
		status, owner, err := s.put(ctx, businessID, cur, raw, &out)
		switch {
		case err != nil:
			return scheduling.Lead{}, fmt.Errorf("redis: %s: %w", op, err)
		case status == "ok":
			return out, nil
		case status == "dup":
			return scheduling.Lead{}, fmt.Errorf("redis: %s: %w: lead %s already has this phone number", op, scheduling.ErrDuplicate, owner)
		}
	}
	return scheduling.Lead{}, tooBusy(op)
}

func (s *leads) Delete(ctx context.Context, businessID, id string) error {
	const op = "delete lead"
	for range maxAttempts {
		cur, raw, err := s.getRaw(ctx, businessID, id)
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		status, _, err := s.put(ctx, businessID, cur, raw, nil)
		if err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
		if status == "ok" {
			return nil
		}
	}
	return tooBusy(op)
}

func (s *leads) List(ctx context.Context, businessID string, f store.LeadFilter, p store.Page) ([]scheduling.Lead, string, error) {
	const op = "list leads"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckLeadFilter(f)
	}
	if err == nil {
		err = store.CheckBusinessID(businessID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	max := "+"
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "lead", 1)
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		max = "(" + key[0]
	}
	var out []scheduling.Lead
	const batch = 200
	for len(out) <= limit {
		ids, err := s.c.ZRevRangeByLex(ctx, (*Store)(s).bkey(businessID, "leads"),
			&goredis.ZRangeBy{Max: max, Min: "-", Count: batch}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		if len(ids) == 0 {
			break
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.key(businessID, id)
		}
		vals, err := s.c.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		for _, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue // deleted between the two reads
			}
			l, err := decodeLead(raw)
			if err != nil {
				return nil, "", fmt.Errorf("redis: %s: %w", op, err)
			}
			if store.MatchLead(l, f) {
				out = append(out, l)
			}
		}
		if len(ids) < batch {
			break
		}
		max = "(" + ids[len(ids)-1]
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor("lead", out[limit-1].ID)
	}
	return out, next, nil
}
