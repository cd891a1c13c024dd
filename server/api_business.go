package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/scheduling"
	"github.com/frontdesk/frontdesk/store"
)

// businessView is a business as the API shows it: the effective
// configuration and where each part of it came from.
type businessView struct {
	ID string `json:"id"`
	// Source is where the business is defined: "config" (the YAML file;
	// fields written through the API override the file's) or "api".
	Source string `json:"source"`
	// Version is the version of the API part, 0 when there is none; send
	// it back as If-Match to update without overwriting someone else's
	// change.
	Version  int64               `json:"version"`
	Business configs.BusinessDoc `json:"business"`
	// Sources maps each key of Business to "config", "api" or "default".
	Sources      map[string]string `json:"sources"`
	CalendarFeed bool              `json:"calendar_feed"` // a feed token exists
	UpdatedAt    *time.Time        `json:"updated_at,omitempty"`
}

func viewOf(e *bizEntry) businessView {
	v := businessView{ID: e.biz.ID, Source: sourceAPI, Version: e.rec.Version, Business: e.biz.Doc(),
		Sources: e.sources, CalendarFeed: e.doc.FeedTokenSHA256 != ""}
	if e.inConfig {
		v.Source = sourceConfig
	}
	if !e.rec.UpdatedAt.IsZero() {
		t := e.rec.UpdatedAt.UTC()
		v.UpdatedAt = &t
	}
	return v
}

func (s *Server) apiGetBusiness(w http.ResponseWriter, r *http.Request, c *caller) error {
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(c.biz.rec.Version, 10)))
	writeJSON(w, http.StatusOK, viewOf(c.biz))
	return nil
}

// apiPutBusiness replaces the API part of the caller's business with the
// body: keys left out fall back to the file (or the default).
func (s *Server) apiPutBusiness(w http.ResponseWriter, r *http.Request, c *caller) error {
	obj, err := businessBody(w, r)
	if err != nil {
		return err
	}
	return s.updateBusiness(w, r, c, func(cur *bizEntry) (map[string]json.RawMessage, error) {
		if err := checkSameID(obj, cur.biz.ID); err != nil {
			return nil, err
		}
		next := maps.Clone(obj)
		if cur.inConfig {
			delete(next, "id")
		}
		return next, nil
	})
}

// apiPatchBusiness applies the body to the caller's effective business
// as a JSON merge patch (RFC 7396): objects merge, anything else
// replaces, null removes a key, which falls back to the file or the
// default. Each top-level key the patch touches becomes part of the API
// part.
func (s *Server) apiPatchBusiness(w http.ResponseWriter, r *http.Request, c *caller) error {
	obj, err := businessBody(w, r)
	if err != nil {
		return err
	}
	return s.updateBusiness(w, r, c, func(cur *bizEntry) (map[string]json.RawMessage, error) {
		if err := checkSameID(obj, cur.biz.ID); err != nil {
			return nil, err
		}
		var eff map[string]any
		js, _ := json.Marshal(cur.biz.Doc())
		if err := json.Unmarshal(js, &eff); err != nil {
			return nil, err
		}
		next := maps.Clone(cur.doc.Business)
		if next == nil {
			next = map[string]json.RawMessage{}
		}
		for k, raw := range obj {
			var patch any
			if err := json.Unmarshal(raw, &patch); err != nil {
				return nil, err
			}
			if patch == nil {
				delete(next, k)
				continue
			}
			v, err := json.Marshal(mergePatch(eff[k], patch))
			if err != nil {
				return nil, err
			}
			next[k] = v
		}
		if cur.inConfig {
			delete(next, "id")
		}
		return next, nil
	})
}

// mergePatch applies an RFC 7396 merge patch to target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	} else {
		t = maps.Clone(t)
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}

// businessBody reads a JSON object body (application/json or
// application/merge-patch+json). Its keys are checked by
// configs.DecodeBusiness, which knows the paths.
func businessBody(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if err := checkContentType(r); err != nil {
		return nil, err
	}
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := unmarshalStrict(body, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errorf(http.StatusBadRequest, "invalid_json", "want a JSON object with the business's fields, got null", nil)
	}
	return obj, nil
}

func checkSameID(obj map[string]json.RawMessage, id string) error {
	raw, ok := obj["id"]
	if !ok {
		return nil
	}
	var got string
	if err := json.Unmarshal(raw, &got); err != nil || got != id {
		return invalidField("id", "the business ID cannot change (this business is %q); leave id out", id)
	}
	return nil
}

// updateBusiness is the read-modify-write of PUT and PATCH: change makes
// the next API part from the current entry. Without If-Match a write that
// lost a race is retried on the new version; with it, it is a 412.
func (s *Server) updateBusiness(w http.ResponseWriter, r *http.Request, c *caller, change func(cur *bizEntry) (map[string]json.RawMessage, error)) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	cur := c.biz
	for attempt := 0; ; attempt++ {
		if want >= 0 && cur.rec.Version != want {
			return errorf(http.StatusPreconditionFailed, "version_mismatch",
				fmt.Sprintf("the business is at version %d, not %d; GET it again and retry", cur.rec.Version, want), nil)
		}
		next, err := change(cur)
		if err != nil {
			return err
		}
		doc := cur.doc
		doc.Business = next
		e, err := s.saveBusiness(ctx, cur.biz.ID, cur, doc)
		if errors.Is(err, errLostRace) && want < 0 && attempt < 3 {
			if cur, err = s.api.reg.get(ctx, cur.biz.ID); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, errLostRace) {
			return errorf(http.StatusConflict, "conflict", "the business changed while this request was written; GET it again and retry", err)
		}
		if err != nil {
			return err
		}
		w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(e.rec.Version, 10)))
		writeJSON(w, http.StatusOK, viewOf(e))
		return nil
	}
}

// ifMatch parses If-Match: a version as GET returned it in ETag (quoted
// or not); -1 when absent.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return -1, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return 0, errorf(http.StatusBadRequest, "invalid", fmt.Sprintf("If-Match %q: want the version from ETag, like \"3\"", h), nil)
	}
	return v, nil
}

var errLostRace = errors.New("business record changed concurrently")

// saveBusiness validates doc as the API part of business id over the
// file's entry, checks its numbers against every other business, and
// stores it: a new record when cur is nil or has none, else an update of
// cur's version. It returns the business as now effective.
func (s *Server) saveBusiness(ctx context.Context, id string, cur *bizEntry, doc recordDoc) (*bizEntry, error) {
	reg := s.api.reg
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	cfg := reg.config()
	cand, err := effective(cfg, id, &store.BusinessRecord{ID: id, Data: data})
	if err != nil {
		return nil, validationError(err)
	}
	if err := reg.rebuild(ctx, false); err != nil {
		return nil, err
	}
	if probs := reg.idx.Load().numberProblems(cand.biz); len(probs) > 0 {
		return nil, &httpError{status: http.StatusConflict, code: "number_taken", fields: probs,
			msg: probs[0].Path + ": " + probs[0].Message}
	}
	rec := store.BusinessRecord{ID: id, Data: data}
	bs := s.api.store.Businesses()
	if cur == nil || cur.rec.Version == 0 {
		_, err = bs.Create(ctx, rec)
		if errors.Is(err, scheduling.ErrDuplicate) && cur != nil {
			err = errLostRace // someone else made the record first
		}
	} else {
		rec.Version = cur.rec.Version
		_, err = bs.Update(ctx, rec)
		if errors.Is(err, scheduling.ErrConflict) || errors.Is(err, scheduling.ErrNotFound) {
			err = errLostRace
		}
	}
	if err != nil {
		return nil, err
	}
	if err := reg.rebuild(ctx, true); err != nil {
		s.log.Warn("business index: rebuild after write failed", "business", id, "err", err)
	}
	return reg.get(ctx, id)
}

// validationError turns the configs validation of a business into a 400
// listing each field.
func validationError(err error) error {
	var verrs configs.ValidationErrors
	if !errors.As(err, &verrs) || len(verrs) == 0 {
		return err
	}
	he := &httpError{status: http.StatusBadRequest, code: "invalid", cause: err}
	for _, fe := range verrs {
		he.fields = append(he.fields, fieldProblem{Path: fe.Path, Message: fe.Msg})
	}
	first := verrs[0].Msg
	if verrs[0].Path != "" {
		first = verrs[0].Path + ": " + first
	}
	if len(verrs) == 1 {
		he.msg = "invalid business: " + first
	} else {
		he.msg = fmt.Sprintf("invalid business: %d problems, first %s; fields lists them all", len(verrs), first)
	}
	return he
}

// apiCreateBusiness creates a business from a complete business document
// (the keys of one entry of the file's businesses list).
func (s *Server) apiCreateBusiness(w http.ResponseWriter, r *http.Request, c *caller) error {
	obj, err := businessBody(w, r)
	if err != nil {
		return err
	}
	var id string
	if raw, ok := obj["id"]; !ok {
		return invalidField("id", "required: a slug of lower-case letters, digits and dashes")
	} else if err := json.Unmarshal(raw, &id); err != nil {
		return invalidField("id", "want a string")
	}
	if _, ok := s.api.reg.config().Business(id); ok {
		return errorf(http.StatusConflict, "duplicate", fmt.Sprintf("business %q is defined in the config file", id), nil)
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	e, err := s.saveBusiness(ctx, id, nil, recordDoc{Business: obj})
	if errors.Is(err, scheduling.ErrDuplicate) {
		return errorf(http.StatusConflict, "duplicate", fmt.Sprintf("business %q already exists", id), err)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/businesses/"+id)
	writeJSON(w, http.StatusCreated, viewOf(e))
	return nil
}

// businessSummary is one row of the operator's list.
type businessSummary struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Source  string   `json:"source"`
	Numbers []string `json:"numbers"`
}

func (s *Server) apiListBusinesses(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := page(r.URL.Query())
	if err != nil {
		return err
	}
	n, _ := p.Size()
	after := ""
	if p.Cursor != "" {
		key, err := store.DecodeCursor(p.Cursor, "businesses", 1)
		if err != nil {
			return invalidField("cursor", "malformed; pass next_cursor from the previous page as it is")
		}
		after = key[0]
	}
	if err := s.api.reg.rebuild(r.Context(), true); err != nil {
		return err
	}
	idx := s.api.reg.idx.Load()
	ids := slices.Sorted(maps.Keys(idx.byID))
	out := list[businessSummary]{Items: []businessSummary{}}
	for _, id := range ids {
		if id <= after {
			continue
		}
		if len(out.Items) == n {
			out.NextCursor = store.EncodeCursor("businesses", out.Items[n-1].ID)
			break
		}
		e := idx.byID[id]
		v := viewOf(e)
		out.Items = append(out.Items, businessSummary{ID: id, Name: e.biz.Name, Source: v.Source, Numbers: v.Business.Numbers})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiGetBusinessByID(w http.ResponseWriter, r *http.Request, c *caller) error {
	e, err := s.api.reg.get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(e))
	return nil
}

// apiDeleteBusiness deletes a business created through the API. Its
// appointments, leads and keys stay in the store (its keys stop working)
// until an erasure request removes them.
func (s *Server) apiDeleteBusiness(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	e, err := s.api.reg.get(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if e.inConfig {
		return errorf(http.StatusConflict, "read_only",
			fmt.Sprintf("business %q is defined in the config file; remove it there and reload", e.biz.ID), nil)
	}
	if err := s.api.store.Businesses().Delete(ctx, e.biz.ID, 0); err != nil {
		return err
	}
	if err := s.api.reg.rebuild(ctx, true); err != nil {
		s.log.Warn("business index: rebuild after delete failed", "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// keyView is an API key as listed; Key, the secret, only in the answer
// that creates it.
type keyView struct {
	ID         string     `json:"id"`
	BusinessID string     `json:"business_id"`
	Role       store.Role `json:"role"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Key        string     `json:"key,omitempty"`
}

func keyViewOf(k store.APIKey) keyView {
	v := keyView{ID: k.ID, BusinessID: k.BusinessID, Role: k.Role, Name: k.Name, CreatedAt: k.CreatedAt.UTC()}
	if k.Revoked() {
		t := k.RevokedAt.UTC()
		v.RevokedAt = &t
	}
	return v
}

type keyRequest struct {
	Role string `json:"role"`
	Name string `json:"name"`
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, businessID string) error {
	var req keyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	role := store.Role(req.Role)
	if !role.Valid() {
		return invalidField("role", "want owner, supervisor or readonly, got %q", req.Role)
	}
	if len(req.Name) > 100 || !utf8.ValidString(req.Name) {
		return invalidField("name", "at most 100 bytes of UTF-8")
	}
	secret, k, err := store.NewAPIKey(businessID, role, strings.TrimSpace(req.Name))
	if err != nil {
		return err
	}
	ctx, cancel := detach(r.Context())
	defer cancel()
	k, err = s.api.store.APIKeys().Create(ctx, k)
	if err != nil {
		return err
	}
	v := keyViewOf(k)
	v.Key = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// apiCreateKeyFor makes a key for any business (operator).
func (s *Server) apiCreateKeyFor(w http.ResponseWriter, r *http.Request, c *caller) error {
	e, err := s.api.reg.get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.createKey(w, r, e.biz.ID)
}

// apiCreateKey makes another key for the caller's business (owner).
func (s *Server) apiCreateKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.createKey(w, r, c.biz.biz.ID)
}

func (s *Server) apiListKeys(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := page(r.URL.Query())
	if err != nil {
		return err
	}
	keys, next, err := s.api.store.APIKeys().List(r.Context(), c.biz.biz.ID, p)
	if err != nil {
		return err
	}
	out := list[keyView]{Items: make([]keyView, len(keys)), NextCursor: next}
	for i, k := range keys {
		out.Items[i] = keyViewOf(k)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiRevokeKey(w http.ResponseWriter, r *http.Request, c *caller) error {
	k, err := s.api.store.APIKeys().Revoke(r.Context(), c.biz.biz.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyViewOf(k))
	return nil
}

// feedToken is the secret of a business's calendar feed:
// "<business ID>.<43 base64url characters>". The ID part finds the
// business; the store keeps only the SHA-256 of the whole token.
func newFeedToken(businessID string) (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = businessID + "." + base64.RawURLEncoding.EncodeToString(b[:])
	return token, feedHash(token)
}

func feedHash(token string) string {
	h := sha256.Sum256([]byte("frontdesk calendar feed v1\x00" + token))
	return hex.EncodeToString(h[:])
}

// apiRotateFeedToken makes a new calendar feed token; the previous one
// stops working at once.
func (s *Server) apiRotateFeedToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx, cancel := detach(r.Context())
	defer cancel()
	token, hash := newFeedToken(c.biz.biz.ID)
	cur := c.biz
	for attempt := 0; ; attempt++ {
		doc := cur.doc
		doc.FeedTokenSHA256 = hash
		_, err := s.saveBusiness(ctx, cur.biz.ID, cur, doc)
		if errors.Is(err, errLostRace) && attempt < 3 {
			if cur, err = s.api.reg.get(ctx, cur.biz.ID); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	writeJSON(w, http.StatusCreated, map[string]string{
		"token": token,
		"url":   s.absURL("/v1/calendar.ics") + "?token=" + token,
	})
	return nil
}

// feedBusiness returns the business whose feed token is token.
func (s *Server) feedBusiness(ctx context.Context, token string) (*bizEntry, error) {
	bad := errorf(http.StatusUnauthorized, "unauthorized", "missing or invalid calendar token; an owner can make one with POST /v1/calendar/token", nil)
	id, _, ok := strings.Cut(token, ".")
	if !ok || s.api.store == nil {
		return nil, bad
	}
	e, err := s.api.reg.get(ctx, id)
	if errors.Is(err, scheduling.ErrNotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	want, err := hex.DecodeString(e.doc.FeedTokenSHA256)
	got, _ := hex.DecodeString(feedHash(token))
	if err != nil || len(want) == 0 || subtle.ConstantTimeCompare(want, got) != 1 {
		return nil, bad
	}
	return e, nil
}
