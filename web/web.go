// Package web holds the pages the server embeds in its binary: today the
// browser softphone at /phone. Plain HTML, CSS and JavaScript, no build
// step: what is in this folder is what is served.
package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"time"
)

//go:embed phone
var files embed.FS

// csp keeps the page to its own origin: its script, its style, its API.
// Framing is allowed, so that a business's site can embed the softphone
// (<iframe src=".../phone?business=ID" allow="microphone">).
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"media-src 'self' blob: mediastream:; img-src 'self' data:; base-uri 'none'; form-action 'self'"

// Phone serves the softphone: GET /phone is the page, /phone/NAME its
// assets (/phone/ redirects to /phone, so that the page's relative URLs
// resolve the same way). The page calls v1/webrtc/offer relative to itself,
// so it works under a path prefix too. Safe for concurrent use.
func Phone() http.Handler {
	sub, err := fs.Sub(files, "phone")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic(err)
	}
	assets := http.StripPrefix("/phone/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "microphone=(self), camera=()")
		switch r.URL.Path {
		case "/phone":
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
		case "/phone/", "/phone/index.html":
			target := "../phone"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
		default:
			assets.ServeHTTP(w, r)
		}
	})
}
