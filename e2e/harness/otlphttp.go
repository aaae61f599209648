package harness

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// serveOTLP serves traces on POST /v1/traces and logs on POST /v1/logs at
// addr (host:port; port 0 for a free one) and returns the server and its
// base URL, the endpoint to configure in an otlp_http exporter.
func serveOTLP(addr string, traces, logs http.HandlerFunc) (*http.Server, string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", traces)
	mux.HandleFunc("POST /v1/logs", logs)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return srv, "http://" + l.Addr().String(), nil
}

// shutdown stops srv, waiting up to 5 seconds for the requests in flight.
func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	return nil
}

// maxBody is the largest request body a backend or sink reads.
const maxBody = 256 << 20

// readBody returns the request's body, gunzipped when its Content-Encoding
// is gzip; on failure it answers 400 Bad Request and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var body io.Reader = http.MaxBytesReader(w, r.Body, maxBody)
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return nil, false
		}
		defer gz.Close()
		body = gz
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return data, true
}
