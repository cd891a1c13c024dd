// Package web holds the pages the server embeds in its binary: the browser
// softphone at /phone and the supervisors' dashboard at /dashboard. Plain
// HTML, CSS and JavaScript, no build step: what is in this folder is what
// is served.
package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"time"
)

//go:embed phone dashboard
var files embed.FS

// phoneCSP keeps the softphone to its own origin: its script, its style,
// its API. Framing is allowed, so that a business's site can embed the
// softphone (<iframe src=".../phone?business=ID" allow="microphone">).
const phoneCSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"media-src 'self' blob: mediastream:; img-src 'self' data:; base-uri 'none'; form-action 'self'"

// dashboardCSP is the same for the dashboard, which is never framed (it
// acts with a supervisor's key, so no other site may overlay it). Its audio
// worklet is a script of its own origin; recordings play from blob: URLs.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"media-src 'self' blob:; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Phone serves the softphone: GET /phone is the page, /phone/NAME its
// assets (/phone/ redirects to /phone, so that the page's relative URLs
// resolve the same way). The page calls v1/webrtc/offer relative to itself,
// so it works under a path prefix too. Safe for concurrent use.
func Phone() http.Handler {
	return page("phone", phoneCSP, "microphone=(self), camera=()", nil)
}

// Dashboard serves the supervisors' dashboard the same way at /dashboard
// and /dashboard/NAME. The page calls the API (v1/...) relative to itself.
// Safe for concurrent use.
func Dashboard() http.Handler {
	return page("dashboard", dashboardCSP, "microphone=(), camera=()",
		map[string]string{"X-Frame-Options": "DENY"})
}

// page serves the folder name of the embedded tree at /name, with its
// security headers.
func page(name, csp, permissions string, extra map[string]string) http.Handler {
	sub, err := fs.Sub(files, name)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic(err)
	}
	root := "/" + name
	assets := http.StripPrefix(root+"/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", permissions)
		for k, v := range extra {
			h.Set(k, v)
		}
		switch r.URL.Path {
		case root:
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
		case root + "/", root + "/index.html":
			target := "../" + name
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
		default:
			// Assets revalidate too: a new binary must not run with an old
			// script.
			h.Set("Cache-Control", "no-cache")
			assets.ServeHTTP(w, r)
		}
	})
}
