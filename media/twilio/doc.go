// Package twilio speaks Twilio Media Streams: the JSON events on the
// WebSocket in both directions, the X-Twilio-Signature check, and a server
// side Session that decodes caller audio and paces agent audio back at real
// time with marks and clear.
package twilio
