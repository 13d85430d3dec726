package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist holds the built page; in a fresh clone only its placeholder.
//
//go:embed all:dist
var dist embed.FS

// Headers of every answer.
const (
	// csp allows only what the page uses: its own scripts and
	// stylesheets (Vite emits no inline script or style), connections
	// to its own origin (the relay's polling and websocket), and data:
	// images for the icon. Style changes made from script (element.style)
	// are not covered by style-src and need no 'unsafe-inline'.
	csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
		"img-src 'self' data:; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	// immutable is for hashed asset names: their content never changes.
	immutable = "public, max-age=31536000, immutable"
	// revalidate is for index.html: a new build must reach the browser.
	revalidate = "no-cache"
)

// notBuilt is served in place of the page when the assets are missing.
const notBuilt = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>jam page not built</title>
<h1>The jam page is not built</h1>
<p>This binary was built without the jam page's assets. Build them and the binary again with <code>make build</code>
(or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then <code>go build</code>).</p>
</html>
`

// Handler serves the embedded jam page.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: embedded dist: " + err.Error()) // cannot happen: the pattern is a constant
	}
	return newHandler(sub)
}

// handler serves one built page from files.
type handler struct {
	files fs.FS
	index []byte // nil when the page is not built
	etag  string
}

func newHandler(files fs.FS) *handler {
	h := &handler{files: files}
	if b, err := fs.ReadFile(files, "index.html"); err == nil {
		sum := sha256.Sum256(b)
		h.index, h.etag = b, `"`+hex.EncodeToString(sum[:8])+`"`
	}
	return h
}

// Built reports whether the page's assets were embedded.
func Built() bool {
	_, err := fs.Stat(dist, "dist/index.html")
	return err == nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	p := r.URL.Path
	switch {
	case isPage(p):
		h.serveIndex(w, r)
	case strings.HasPrefix(p, "/assets/"):
		h.serveFile(w, r, p, immutable)
	case isTopLevelFile(p):
		h.serveFile(w, r, p, revalidate)
	default:
		http.NotFound(w, r)
	}
}

// isPage reports whether p is a route of the page: "/", "/jam" or
// "/jam/CODE".
func isPage(p string) bool {
	return p == "/" || p == "/index.html" || p == "/jam" || strings.HasPrefix(p, "/jam/")
}

// isTopLevelFile reports whether p names a public file beside
// index.html (an icon): one path element, not hidden.
func isTopLevelFile(p string) bool {
	name := strings.TrimPrefix(p, "/")
	return name != "" && !strings.ContainsAny(name, "/\\") && !strings.HasPrefix(name, ".")
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", revalidate)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if h.index == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		if r.Method == http.MethodGet {
			w.Write([]byte(notBuilt))
		}
		return
	}
	w.Header().Set("ETag", h.etag)
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.index))
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, p, cache string) {
	name := strings.TrimPrefix(path.Clean(p), "/")
	if !fs.ValidPath(name) || name == "index.html" {
		http.NotFound(w, r)
		return
	}
	st, err := fs.Stat(h.files, name)
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(h.files, name)
	if err != nil {
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
