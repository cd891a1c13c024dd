package server

import (
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// callsOpenAPIPaths and callsOpenAPISchemas document callRoutes. They go
// into openapi.yaml (the paths at the end of "paths:", the schemas at the
// end of "components: schemas:") when routeTable lists callRoutes;
// TestCallsOpenAPI checks them against the routes and against
// openapi.yaml's components until then, and after.
const callsOpenAPIPaths = `  /v1/calls:
    get:
      tags: [calls]
      summary: List calls, newest first (readonly).
      parameters:
        - {name: from, in: query, description: "Started at or after. RFC 3339, local time or date.", schema: {type: string}}
        - {name: to, in: query, description: "Started before. A date includes that whole day.", schema: {type: string}}
        - {name: number, in: query, description: "The caller's number, E.164 or national.", schema: {type: string}}
        - {name: outcome, in: query, schema: {type: string, enum: [completed, cut, error, interrupted]}}
        - {name: lead_id, in: query, schema: {type: string}}
        - {$ref: "#/components/parameters/cursor"}
        - {$ref: "#/components/parameters/limit"}
      responses:
        "200":
          description: A page of calls.
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/Call"}}
                  next_cursor: {type: string}
        "400": {$ref: "#/components/responses/Error"}
        default: {$ref: "#/components/responses/Error"}
  /v1/calls/{id}:
    parameters: [{$ref: "#/components/parameters/id"}]
    get:
      tags: [calls]
      summary: Show a call (readonly).
      responses:
        "200":
          description: The call.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Call"}
        default: {$ref: "#/components/responses/Error"}
    delete:
      tags: [calls]
      summary: Delete a call, its recording and transcript (owner).
      description: Refused (409 held) under a legal hold on the call, its lead or the business, and (409 in_progress) while the call is live. Written to the audit log.
      parameters:
        - {name: reason, in: query, description: For the audit log., schema: {type: string, maxLength: 1000}}
      responses:
        "204": {description: Deleted.}
        "409": {$ref: "#/components/responses/Error"}
        default: {$ref: "#/components/responses/Error"}
  /v1/calls/{id}/recording:
    parameters: [{$ref: "#/components/parameters/id"}]
    get:
      tags: [calls]
      summary: The recording as a decrypted stereo WAV, caller left, agent right (readonly).
      description: Supports HTTP Range (206; 416 out of bounds), so an audio element can seek. 404 when the plan records nothing, the caller opted out at once, or it was deleted or expired; 409 while the call is live.
      parameters:
        - {name: Range, in: header, schema: {type: string, example: "bytes=0-"}}
      responses:
        "200":
          description: The WAV file.
          content:
            audio/wav: {}
        "206":
          description: The requested bytes.
          content:
            audio/wav: {}
        "416": {description: The range is outside the file.}
        default: {$ref: "#/components/responses/Error"}
  /v1/calls/{id}/transcript:
    parameters: [{$ref: "#/components/parameters/id"}]
    get:
      tags: [calls]
      summary: The transcript (readonly).
      parameters:
        - {name: format, in: query, schema: {type: string, enum: [json, txt, vtt], default: json}}
      responses:
        "200":
          description: JSON (the call's metadata and turns), plain text, or WebVTT captions.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Transcript"}
            text/plain: {}
            text/vtt: {}
        default: {$ref: "#/components/responses/Error"}
  /v1/calls/{id}/hold:
    parameters: [{$ref: "#/components/parameters/id"}]
    post:
      tags: [calls]
      summary: Put the call under legal hold (owner).
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/HoldInput"}
      responses:
        "201":
          description: Held.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        "200":
          description: Already held; the first hold is kept.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        default: {$ref: "#/components/responses/Error"}
    delete:
      tags: [calls]
      summary: Release the call's hold (owner); expiries that passed meanwhile fire at once.
      parameters:
        - {name: reason, in: query, schema: {type: string, maxLength: 1000}}
      responses:
        "200":
          description: The released hold.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        default: {$ref: "#/components/responses/Error"}
  /v1/leads/{id}/hold:
    parameters: [{$ref: "#/components/parameters/id"}]
    post:
      tags: [calls]
      summary: Put a lead and every call with it under legal hold (owner).
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/HoldInput"}
      responses:
        "201":
          description: Held.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        "200":
          description: Already held.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        default: {$ref: "#/components/responses/Error"}
    delete:
      tags: [calls]
      summary: Release the lead's hold (owner).
      parameters:
        - {name: reason, in: query, schema: {type: string, maxLength: 1000}}
      responses:
        "200":
          description: The released hold.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        default: {$ref: "#/components/responses/Error"}
  /v1/business/hold:
    post:
      tags: [calls]
      summary: Put everything of the business under legal hold (owner).
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/HoldInput"}
      responses:
        "201":
          description: Held.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        "200":
          description: Already held.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        default: {$ref: "#/components/responses/Error"}
    delete:
      tags: [calls]
      summary: Release the business's hold (owner).
      parameters:
        - {name: reason, in: query, schema: {type: string, maxLength: 1000}}
      responses:
        "200":
          description: The released hold.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hold"}
        default: {$ref: "#/components/responses/Error"}
  /v1/holds:
    get:
      tags: [calls]
      summary: The business's legal holds (readonly).
      responses:
        "200":
          description: Every hold.
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/Hold"}}
        default: {$ref: "#/components/responses/Error"}
  /v1/erasure:
    post:
      tags: [calls]
      summary: Erase everything about a phone number or a lead (owner).
      description: Deletes the calls from the number or with the lead (recordings, transcripts, records), the appointments with that phone or lead, and the lead. All or nothing - 409 held when a legal hold covers any of it, 409 in_progress while one of the calls is live; 404 when nothing is stored about the number. Written to the audit log without the number.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              properties:
                phone: {type: string, description: "E.164 or national. Give phone or lead_id."}
                lead_id: {type: string}
                reason: {type: string, maxLength: 1000}
      responses:
        "200":
          description: What was erased.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Erasure"}
        "409": {$ref: "#/components/responses/Error"}
        default: {$ref: "#/components/responses/Error"}
  /v1/export:
    get:
      tags: [calls]
      summary: Everything stored about a phone number or a lead, as JSON (owner).
      description: Leads, calls with their transcripts (recordings are linked) and appointments. Written to the audit log.
      parameters:
        - {name: phone, in: query, schema: {type: string}}
        - {name: lead_id, in: query, schema: {type: string}}
      responses:
        "200":
          description: The data.
          content:
            application/json:
              schema:
                type: object
                properties:
                  phone: {type: string}
                  exported_at: {type: string, format: date-time}
                  leads: {type: array, items: {$ref: "#/components/schemas/Lead"}}
                  calls:
                    type: array
                    items:
                      allOf:
                        - {$ref: "#/components/schemas/Call"}
                        - type: object
                          properties:
                            transcript_content: {$ref: "#/components/schemas/Transcript"}
                  appointments: {type: array, items: {$ref: "#/components/schemas/Appointment"}}
        default: {$ref: "#/components/responses/Error"}
  /v1/audit:
    get:
      tags: [calls]
      summary: The audit log, newest first (owner).
      parameters:
        - {$ref: "#/components/parameters/cursor"}
        - {$ref: "#/components/parameters/limit"}
      responses:
        "200":
          description: A page of audit records.
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/AuditRecord"}}
                  next_cursor: {type: string}
        default: {$ref: "#/components/responses/Error"}
`

const callsOpenAPISchemas = `    Call:
      type: object
      properties:
        id: {type: string}
        transport: {type: string, enum: [twilio, webrtc]}
        carrier_sid: {type: string}
        from: {type: string, description: "E.164, or empty."}
        to: {type: string}
        lead_id: {type: string}
        started_at: {type: string, format: date-time}
        ended_at: {type: string, format: date-time, nullable: true}
        outcome: {type: string, enum: ["", completed, cut, error, interrupted], description: "Empty while live."}
        disclosed: {type: boolean, description: The caller was told the call is recorded.}
        recording: {$ref: "#/components/schemas/CallFile"}
        transcript: {$ref: "#/components/schemas/CallFile"}
        recording_stopped_at: {type: string, format: date-time, nullable: true, description: When the caller opted out of recording.}
        recording_expires_at: {type: string, format: date-time, nullable: true}
        transcript_expires_at: {type: string, format: date-time, nullable: true}
        hold: {$ref: "#/components/schemas/Hold"}
    CallFile:
      type: object
      nullable: true
      description: Null when there is none (not kept by the plan, opted out, deleted or expired).
      properties:
        url: {type: string}
        expires_at: {type: string, format: date-time}
    Transcript:
      type: object
      properties:
        call_id: {type: string}
        business_id: {type: string}
        from: {type: string}
        to: {type: string}
        started_at: {type: string, format: date-time}
        ended_at: {type: string, format: date-time}
        outcome: {type: string}
        disclosure_given: {type: boolean}
        recording_stopped_ms: {type: integer}
        turns:
          type: array
          items:
            type: object
            properties:
              speaker: {type: string, enum: [caller, agent, system]}
              text: {type: string}
              start_ms: {type: integer}
              end_ms: {type: integer}
              interrupted: {type: boolean}
              confidence: {type: number}
    HoldInput:
      type: object
      additionalProperties: false
      required: [reason]
      properties:
        reason: {type: string, maxLength: 1000}
    Hold:
      type: object
      nullable: true
      properties:
        scope: {type: string, enum: [business, lead, call]}
        target: {type: string}
        reason: {type: string}
        by: {type: string, description: The API key that placed it.}
        at: {type: string, format: date-time}
    Erasure:
      type: object
      properties:
        leads: {type: integer}
        calls: {type: integer}
        recordings: {type: integer}
        transcripts: {type: integer}
        appointments: {type: integer}
    AuditRecord:
      type: object
      properties:
        id: {type: string}
        at: {type: string, format: date-time}
        actor: {type: string, description: "An API key ID, or system."}
        action: {type: string, enum: [delete, erase, hold, release, export, expire]}
        target: {type: string, example: "call:call_0a1b"}
        reason: {type: string}
`

// withCallsOpenAPI returns openapi.yaml with the call routes' paths and
// schemas, unless it has them already.
func withCallsOpenAPI(t *testing.T) []byte {
	doc := string(openAPI)
	if strings.Contains(doc, "\n  /v1/calls:\n") {
		return openAPI
	}
	i := strings.Index(doc, "\ncomponents:\n")
	if i < 0 || !strings.HasSuffix(doc, "\n") {
		t.Fatal("openapi.yaml: no components section to insert before")
	}
	return []byte(doc[:i+1] + callsOpenAPIPaths + doc[i+1:] + callsOpenAPISchemas)
}

// TestCallsOpenAPI documents every call route exactly once, not public,
// with responses, every $ref resolved.
func TestCallsOpenAPI(t *testing.T) {
	data := withCallsOpenAPI(t)
	var doc openAPIDoc
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.yaml with the call routes: %v", err)
	}
	var paths struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal([]byte("paths:\n"+callsOpenAPIPaths), &paths); err != nil {
		t.Fatalf("call paths: %v", err)
	}
	documented := map[string]bool{}
	for path, item := range paths.Paths {
		for method, node := range item {
			if method == "parameters" {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			documented[name] = true
			var op openAPIOp
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if op.Security != nil || len(op.Responses) == 0 {
				t.Errorf("%s: security %v, %d responses; want the default (a key) and responses", name, op.Security, len(op.Responses))
			}
		}
	}
	routes := map[string]bool{}
	for _, rt := range callRoutes() {
		name := rt.method + " " + rt.pattern
		routes[name] = true
		if !documented[name] {
			t.Errorf("route %s is not documented", name)
		}
		if rt.access != accessBusiness {
			t.Errorf("route %s is not for business keys", name)
		}
	}
	for name := range documented {
		if !routes[name] {
			t.Errorf("documented %s is not a call route", name)
		}
	}
	for _, m := range regexp.MustCompile(`\$ref: "#/components/([a-zA-Z]+)/([a-zA-Z]+)"`).FindAllStringSubmatch(string(data), -1) {
		if _, ok := doc.Comps[m[1]][m[2]]; !ok {
			t.Errorf("dangling $ref %s", m[0])
		}
	}
}
