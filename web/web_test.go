package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func built() *handler {
	return newHandler(fstest.MapFS{
		"index.html":               {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc.js"></script>`)},
		"assets/index-abc.js":      {Data: []byte(`console.log(1)`)},
		"assets/index-abc.css":     {Data: []byte(`body{}`)},
		"favicon.svg":              {Data: []byte(`<svg/>`)},
		".gitkeep":                 {},
		"assets/sub/ignored.js.gz": {Data: []byte(`x`)},
	})
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRoutesOfTheBuiltPage(t *testing.T) {
	h := built()
	tests := []struct {
		path, cache, body string
		code              int
	}{
		{"/", revalidate, "<!doctype html>", 200},
		{"/jam", revalidate, "<!doctype html>", 200},
		{"/jam/K7QM-3XRD", revalidate, "<!doctype html>", 200},
		{"/jam/K7QM-3XRD?name=ada", revalidate, "<!doctype html>", 200},
		{"/index.html", revalidate, "<!doctype html>", 200},
		{"/assets/index-abc.js", immutable, "console.log(1)", 200},
		{"/assets/index-abc.css", immutable, "body{}", 200},
		{"/favicon.svg", revalidate, "<svg/>", 200},
		{"/assets/missing.js", "", "404 page not found", 404},
		{"/assets/", "", "404 page not found", 404},
		{"/assets/sub", "", "404 page not found", 404},
		{"/.gitkeep", "", "404 page not found", 404},
		{"/jamming", "", "404 page not found", 404},
		{"/other/page", "", "404 page not found", 404},
		{"/assets/../index.html", "", "404 page not found", 404},
	}
	for _, tc := range tests {
		w := get(t, h, "GET", tc.path)
		if w.Code != tc.code || w.Header().Get("Cache-Control") != tc.cache || !strings.HasPrefix(w.Body.String(), tc.body) {
			t.Errorf("GET %s = %d %q %q, want %d %q %q", tc.path, w.Code, w.Header().Get("Cache-Control"), w.Body.String(), tc.code, tc.cache, tc.body)
		}
		if got := w.Header().Get("Content-Security-Policy"); got != csp {
			t.Errorf("GET %s: content security policy %q, want %q", tc.path, got, csp)
		}
	}
}

func TestContentTypes(t *testing.T) {
	h := built()
	for path, want := range map[string]string{
		"/jam/X1Y":             "text/html; charset=utf-8",
		"/assets/index-abc.js": "text/javascript; charset=utf-8",
		"/favicon.svg":         "image/svg+xml",
	} {
		if got := get(t, h, "GET", path).Header().Get("Content-Type"); got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
		}
	}
}

func TestIndexRevalidatesWithItsETag(t *testing.T) {
	h := built()
	etag := get(t, h, "GET", "/").Header().Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag")
	}
	if w := get(t, h, "GET", "/jam/ABC", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("GET with If-None-Match %s = %d, want 304", etag, w.Code)
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := built()
	if w := get(t, h, "HEAD", "/"); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD / = %d with %d bytes, want 200 and none", w.Code, w.Body.Len())
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if w := get(t, h, m, "/"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s / = %d Allow %q, want 405 GET, HEAD", m, w.Code, w.Header().Get("Allow"))
		}
	}
}

func TestUnbuiltPageSaysHowToBuildIt(t *testing.T) {
	h := newHandler(fstest.MapFS{".gitkeep": {}})
	for _, p := range []string{"/", "/jam/ABC"} {
		w := get(t, h, "GET", p)
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "make build") {
			t.Errorf("GET %s unbuilt = %d %q, want 503 saying make build", p, w.Code, w.Body.String())
		}
	}
	if w := get(t, h, "GET", "/assets/index.js"); w.Code != http.StatusNotFound {
		t.Errorf("GET an asset unbuilt = %d, want 404", w.Code)
	}
}

// The embedded page, built or not, answers as Built says.
func TestEmbeddedHandler(t *testing.T) {
	w := get(t, Handler(), "GET", "/jam/ABC")
	want := http.StatusServiceUnavailable
	if Built() {
		want = http.StatusOK
	}
	if w.Code != want {
		t.Errorf("GET /jam/ABC = %d with Built() %v, want %d", w.Code, Built(), want)
	}
}
