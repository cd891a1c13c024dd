// Package server is Frontdesk's HTTP edge and composition root: it turns a
// configuration into running parts (Twilio webhooks, the Media Streams
// endpoint, calls, health and metrics) and owns their lifecycles.
package server
