package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

type appointments Store

var _ store.Appointments = (*appointments)(nil)

// apptRec is the stored form of an appointment: times in Unix nanoseconds,
// so that it round-trips exactly.
type apptRec struct {
	ID           string `json:"id"`
	BusinessID   string `json:"business_id"`
	ServiceID    string `json:"service_id"`
	ServiceName  string `json:"service_name"`
	DurationNS   int64  `json:"duration_ns"`
	BufferNS     int64  `json:"buffer_ns"`
	Price        int64  `json:"price"`
	Currency     string `json:"currency"`
	StartNS      int64  `json:"start_ns"`
	EndNS        int64  `json:"end_ns"`
	Status       string `json:"status"`
	CustomerName string `json:"customer_name"`
	Phone        string `json:"phone"`
	LeadID       string `json:"lead_id"`
	IdemKey      string `json:"idempotency_key"`
	SMSStatus    string `json:"sms_status"`
	SMSError     string `json:"sms_error"`
	CreatedNS    int64  `json:"created_ns"`
	UpdatedNS    int64  `json:"updated_ns"`
}

func encodeAppt(a scheduling.Appointment) string {
	b, _ := json.Marshal(apptRec{ // plain strings and integers always encode
		ID: a.ID, BusinessID: a.BusinessID, ServiceID: a.Service.ID, ServiceName: a.Service.Name,
		DurationNS: int64(a.Service.Duration), BufferNS: int64(a.Service.Buffer), Price: a.Service.Price, Currency: a.Service.Currency,
		StartNS: toNS(a.Start), EndNS: toNS(a.End), Status: string(a.Status), CustomerName: a.CustomerName, Phone: a.Phone,
		LeadID: a.LeadID, IdemKey: a.IdempotencyKey, SMSStatus: string(a.SMSStatus), SMSError: a.SMSError,
		CreatedNS: toNS(a.CreatedAt), UpdatedNS: toNS(a.UpdatedAt),
	})
	return string(b)
}

func decodeAppt(raw string) (scheduling.Appointment, error) {
	var r apptRec
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return scheduling.Appointment{}, fmt.Errorf("decode appointment: %w", err)
	}
	return scheduling.Appointment{
		ID: r.ID, BusinessID: r.BusinessID,
		Service: scheduling.Service{ID: r.ServiceID, Name: r.ServiceName, Duration: time.Duration(r.DurationNS),
			Buffer: time.Duration(r.BufferNS), Price: r.Price, Currency: r.Currency},
		Start: fromNS(r.StartNS), End: fromNS(r.EndNS), Status: scheduling.AppointmentStatus(r.Status),
		CustomerName: r.CustomerName, Phone: r.Phone, LeadID: r.LeadID, IdempotencyKey: r.IdemKey,
		SMSStatus: scheduling.SMSStatus(r.SMSStatus), SMSError: r.SMSError,
		CreatedAt: fromNS(r.CreatedNS), UpdatedAt: fromNS(r.UpdatedNS),
	}, nil
}

// putApptScript writes an appointment record and keeps the business's
// indexes in step, atomically:
//
//	KEYS: 1 record, 2 busy (zset id→start ms of booked ones), 3 ends (hash
//	      id→block end ms), 4 all (zset id→start ms), 5 idempotency key
//	ARGV: 1 id, 2 expected current record ("" = must not exist), 3 new record,
//	      4 start ms, 5 block end ms, 6 "1" if booked, 7 "1" to check overlap,
//	      8 "1" to use KEYS[5]
//
// Booked blocks of a business never overlap one another (every write goes
// through this check), so their ends grow with their starts: only the
// latest one (other than this appointment) starting before the new block's
// end can reach past its start. That keeps the check O(log n).
var putApptScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[2] == '' then
  if cur then return {'exists'} end
  if ARGV[8] == '1' then
    local prev = redis.call('GET', KEYS[5])
    if prev then return {'idem', prev} end
  end
elseif cur ~= ARGV[2] then
  return {'stale'}
end
local s = tonumber(ARGV[4])
if ARGV[7] == '1' then
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[2], '(' .. ARGV[5], '-inf', 'LIMIT', 0, 2)
  for _, other in ipairs(ids) do
    if other ~= ARGV[1] then
      local e = tonumber(redis.call('HGET', KEYS[3], other))
      if e and e > s then return {'conflict', other} end
      break
    end
  end
end
redis.call('SET', KEYS[1], ARGV[3])
if ARGV[6] == '1' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
if ARGV[8] == '1' then redis.call('SET', KEYS[5], ARGV[1]) end
return {'ok'}
`)

func (s *appointments) key(businessID, id string) string {
	return (*Store)(s).bkey(businessID, "apt", id)
}

func (s *appointments) idemKey(businessID, key string) string {
	h := sha256.Sum256([]byte(key)) // user-chosen keys become fixed-size, safe key names
	return (*Store)(s).bkey(businessID, "idem", hex.EncodeToString(h[:16]))
}

// put writes a (new or changed) appointment; prev is the record it
// replaces, "" for a new one. It returns the script's status and detail.
func (s *appointments) put(ctx context.Context, a scheduling.Appointment, prev string, checkOverlap bool) (string, string, error) {
	b := a.BusinessID
	flag := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	useIdem := prev == "" && a.IdempotencyKey != ""
	keys := []string{s.key(b, a.ID), (*Store)(s).bkey(b, "busy"), (*Store)(s).bkey(b, "ends"), (*Store)(s).bkey(b, "apts"), s.key(b, a.ID)}
	if useIdem {
		keys[4] = s.idemKey(b, a.IdempotencyKey)
	}
	res, err := (*Store)(s).result(ctx, putApptScript, keys,
		a.ID, prev, encodeAppt(a), ms(a.Start), ms(a.BlockEnd()), flag(a.Status == scheduling.StatusBooked),
		flag(checkOverlap), flag(useIdem))
	if err != nil {
		return "", "", err
	}
	detail := ""
	if len(res) > 1 {
		detail = res[1]
	}
	return res[0], detail, nil
}

func (s *appointments) getRaw(ctx context.Context, businessID, id string) (scheduling.Appointment, string, error) {
	if !store.ValidID(id) || !store.ValidID(businessID) {
		return scheduling.Appointment{}, "", store.NotFound("appointment", id)
	}
	raw, ok, err := (*Store)(s).getString(ctx, s.key(businessID, id))
	if err != nil {
		return scheduling.Appointment{}, "", err
	}
	if !ok {
		return scheduling.Appointment{}, "", store.NotFound("appointment", id)
	}
	a, err := decodeAppt(raw)
	return a, raw, err
}

func (s *appointments) Book(ctx context.Context, businessID string, cal *scheduling.Calendar, req scheduling.Appointment) (scheduling.Appointment, error) {
	const op = "book appointment"
	if err := store.CheckBusinessID(businessID); err != nil {
		return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	now := s.now()
	a, err := cal.PrepareBooking(businessID, req, now)
	if err != nil {
		return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	a.ID = store.NewID("apt", now)
	status, detail, err := s.put(ctx, a, "", true)
	if err != nil {
		return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
	}
	switch status {
	case "ok":
		return a, nil
	case "idem":
		prev, _, err := s.getRaw(ctx, businessID, detail)
		switch {
		case err != nil:
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: replay idempotency key: %w", op, err)
		case !prev.SameRequest(a):
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w: idempotency key was used for a different booking (%s)", op, scheduling.ErrDuplicate, prev.ID)
		}
		return prev, nil
	case "conflict":
		return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, store.Conflict(ctx, s, businessID, cal, a.Service, a.Start, now, ""))
	default:
		return scheduling.Appointment{}, fmt.Errorf("redis: %s: unexpected script reply %q for new ID %s", op, status, a.ID)
	}
}

func (s *appointments) Get(ctx context.Context, businessID, id string) (scheduling.Appointment, error) {
	a, _, err := s.getRaw(ctx, businessID, id)
	if err != nil {
		return scheduling.Appointment{}, fmt.Errorf("redis: get appointment: %w", err)
	}
	return a, nil
}

func (s *appointments) List(ctx context.Context, businessID string, f store.AppointmentFilter, p store.Page) ([]scheduling.Appointment, string, error) {
	const op = "list appointments"
	limit, err := p.Size()
	if err == nil {
		err = store.CheckAppointmentFilter(f)
	}
	if err == nil {
		err = store.CheckBusinessID(businessID)
	}
	if err != nil {
		return nil, "", fmt.Errorf("redis: %s: %w", op, err)
	}
	min, max := "-inf", "+inf"
	if !f.From.IsZero() {
		min = strconv.FormatInt(ceilMS(f.From), 10)
	}
	if !f.To.IsZero() {
		max = "(" + strconv.FormatInt(ceilMS(f.To), 10)
	}
	var afterNS int64
	afterID, hasCursor := "", p.Cursor != ""
	if hasCursor {
		key, err := store.DecodeCursor(p.Cursor, "apt", 2)
		if err == nil {
			afterNS, err = strconv.ParseInt(key[0], 10, 64)
		}
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w: malformed page cursor", op, scheduling.ErrInvalid)
		}
		afterID = key[1]
		if c := afterNS / 1e6; f.From.IsZero() || c > ceilMS(f.From) {
			min = strconv.FormatInt(c, 10)
		}
	}
	var out []scheduling.Appointment
	const batch = 200
	for offset := int64(0); len(out) <= limit; offset += batch {
		zs, err := s.c.ZRangeByScoreWithScores(ctx, (*Store)(s).bkey(businessID, "apts"),
			&goredis.ZRangeBy{Min: min, Max: max, Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("redis: %s: %w", op, err)
		}
		var keys []string
		for _, z := range zs {
			id := z.Member.(string)
			if hasCursor && int64(z.Score) == afterNS/1e6 && id <= afterID {
				continue // on or before the cursor
			}
			keys = append(keys, s.key(businessID, id))
		}
		if len(keys) > 0 {
			vals, err := s.c.MGet(ctx, keys...).Result()
			if err != nil {
				return nil, "", fmt.Errorf("redis: %s: %w", op, err)
			}
			for _, v := range vals {
				raw, ok := v.(string)
				if !ok {
					continue
				}
				a, err := decodeAppt(raw)
				if err != nil {
					return nil, "", fmt.Errorf("redis: %s: %w", op, err)
				}
				if f.Status == "" || a.Status == f.Status {
					out = append(out, a)
				}
			}
		}
		if len(zs) < batch {
			break
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor("apt", strconv.FormatInt(last.Start.UnixNano(), 10), last.ID)
	}
	return out, next, nil
}

func (s *appointments) Reschedule(ctx context.Context, businessID string, cal *scheduling.Calendar, id string, start time.Time) (scheduling.Appointment, error) {
	const op = "reschedule appointment"
	for range maxAttempts {
		now := s.now()
		cur, raw, err := s.getRaw(ctx, businessID, id)
		if err != nil {
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		moved, err := cal.PrepareReschedule(cur, start, now)
		if err != nil {
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		status, _, err := s.put(ctx, moved, raw, true)
		switch {
		case err != nil:
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
		case status == "ok":
			return moved, nil
		case status == "conflict":
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, store.Conflict(ctx, s, businessID, cal, moved.Service, moved.Start, now, id))
		}
	}
	return scheduling.Appointment{}, tooBusy(op)
}

func (s *appointments) Cancel(ctx context.Context, businessID, id string) (scheduling.Appointment, error) {
	return s.update(ctx, "cancel appointment", businessID, id, func(a *scheduling.Appointment) {
		a.Status = scheduling.StatusCancelled
	})
}

func (s *appointments) SetSMS(ctx context.Context, businessID, id string, status scheduling.SMSStatus, errMsg string) (scheduling.Appointment, error) {
	if !status.Valid() || len(errMsg) > 2000 {
		return scheduling.Appointment{}, fmt.Errorf("redis: set SMS status: %w: status %q or error text longer than 2000 bytes", scheduling.ErrInvalid, status)
	}
	return s.update(ctx, "set SMS status", businessID, id, func(a *scheduling.Appointment) {
		a.SMSStatus, a.SMSError = status, errMsg
	})
}

// update applies change to status or SMS fields with compare-and-set;
// when nothing changes it writes nothing, which makes Cancel idempotent.
func (s *appointments) update(ctx context.Context, op, businessID, id string, change func(a *scheduling.Appointment)) (scheduling.Appointment, error) {
	for range maxAttempts {
		cur, raw, err := s.getRaw(ctx, businessID, id)
		if err != nil {
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		out := cur
		change(&out)
		if out.Status == cur.Status && out.SMSStatus == cur.SMSStatus && out.SMSError == cur.SMSError {
			return cur, nil
		}
		out.UpdatedAt = s.now()
		status, _, err := s.put(ctx, out, raw, false)
		if err != nil {
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: %w", op, err)
		}
		if status == "ok" {
			return out, nil
		}
		if status != "stale" {
			return scheduling.Appointment{}, fmt.Errorf("redis: %s: unexpected script reply %q", op, status)
		}
	}
	return scheduling.Appointment{}, tooBusy(op)
}
