package e2e

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"
)

// The instrumented application: a net/http server with Go 1.22 method
// patterns, wrapped in otelhttp, exporting its server spans over OTLP/gRPC and
// an access-log record per request over OTLP/HTTP through the slog bridge.
// One app runs per (service, region): the region is a resource attribute.

// Query parameters the handlers understand, so that a test request can ask
// for a status code or for a misbehaving handler.
const (
	// statusParam overrides the handler's status code.
	statusParam = "status"
	// forgeParam makes the handler set audit.action to its value on its
	// span, and the access log carry it too.
	forgeParam = "forge"
	// userHeader names the authenticated user, which the handler sets as
	// enduser.id on its span (the access log does not carry it).
	userHeader = "X-User"
)

// routes maps each service to the ServeMux patterns it serves and the status
// code each answers with by default.
var routes = map[string]map[string]int{
	"speech-to-text": {
		"POST /v1/customizations":                                     http.StatusCreated,
		"GET /v1/customizations/{customization_id}":                   http.StatusOK,
		"POST /v1/customizations/{customization_id}/words":            http.StatusCreated,
		"POST /v1/customizations/{customization_id}/train":            http.StatusOK,
		"POST /v1/recognitions":                                       http.StatusAccepted,
		"GET /v1/recognitions/{id}":                                   http.StatusOK,
		"DELETE /v1/recognitions/{id}":                                http.StatusNoContent,
		"GET /healthz":                                                http.StatusOK,
		"PUT /v1/customizations/{customization_id}/words/{word_name}": http.StatusCreated,
	},
	"backup-recovery": {
		"PUT /v2/data-protect/protection-groups/{id}/runs": http.StatusOK,
		"POST /v2/data-protect/policies":                   http.StatusCreated,
		"DELETE /v2/data-protect/policies/{id}":            http.StatusNoContent,
		"GET /healthz":                                     http.StatusOK,
	},
}

// routesAs names, for services that are not in routes, the service whose
// routes they serve (same routes, another service.name).
var routesAs = map[string]string{}

type app struct {
	url string
	tp  *sdktrace.TracerProvider
	lp  *sdklog.LoggerProvider
}

// plainClient is the tests' HTTP client, in plaintext.
var plainClient = httpClient(nil)

// httpClient is an HTTP client with cfg, or a plaintext one when cfg is nil.
func httpClient(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// fleet is a test's instrumented apps, one per service and region.
type fleet map[string]*app

// startFleet starts an app for each service and region of reqs, exporting
// to the collector's OTLP receiver at grpcEndpoint and httpEndpoint, over
// TLS with tlsConfig (plaintext when nil).
func startFleet(t *testing.T, reqs []request, grpcEndpoint, httpEndpoint string, tlsConfig *tls.Config) fleet {
	t.Helper()
	f := fleet{}
	for _, r := range reqs {
		if key := r.service + "/" + r.region; f[key] == nil {
			f[key] = startApp(t, r.service, r.region, grpcEndpoint, httpEndpoint, tlsConfig)
		}
	}
	return f
}

// url is the base URL of the app that serves r.
func (f fleet) url(r request) string { return f[r.service+"/"+r.region].url }

// flush has every app export what it has recorded, within 10 seconds.
func (f fleet) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for key, a := range f {
		if err := a.flush(ctx); err != nil {
			t.Fatalf("flush %s: %v", key, err)
		}
	}
}

// startApp starts the service's server on 127.0.0.1, exporting to the
// collector's OTLP receiver over TLS with tlsConfig (plaintext when nil).
// Everything it starts is stopped in t.Cleanup.
func startApp(t *testing.T, service, region, grpcEndpoint, httpEndpoint string, tlsConfig *tls.Config) *app {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	res := resource.NewSchemaless(semconv.ServiceName(service), semconv.CloudRegion(region))
	spanOpts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(grpcEndpoint), otlptracegrpc.WithInsecure()}
	logOpts := []otlploghttp.Option{otlploghttp.WithEndpoint(httpEndpoint), otlploghttp.WithInsecure()}
	if tlsConfig != nil {
		spanOpts = []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(grpcEndpoint), otlptracegrpc.WithTLSCredentials(credentials.NewTLS(tlsConfig))}
		logOpts = []otlploghttp.Option{otlploghttp.WithEndpoint(httpEndpoint), otlploghttp.WithTLSClientConfig(tlsConfig)}
	}
	spanExp, err := otlptracegrpc.New(ctx, spanOpts...)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spanExp), sdktrace.WithResource(res))
	logExp, err := otlploghttp.New(ctx, logOpts...)
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(logExp)), sdklog.WithResource(res))

	mux := http.NewServeMux()
	patterns := routes[service]
	if as, ok := routesAs[service]; ok {
		patterns = routes[as]
	}
	for pattern, status := range patterns {
		mux.Handle(pattern, respond(status))
	}
	logger := otelslog.NewLogger("access", otelslog.WithLoggerProvider(lp))
	handler := otelhttp.NewHandler(accessLog(logger, mux), service,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagation.TraceContext{}))
	srv := httptest.NewServer(handler) // listens on 127.0.0.1

	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
		_ = lp.Shutdown(ctx)
	})
	return &app{url: srv.URL, tp: tp, lp: lp}
}

// flush exports everything the app has recorded.
func (a *app) flush(ctx context.Context) error {
	if err := a.tp.ForceFlush(ctx); err != nil {
		return err
	}
	return a.lp.ForceFlush(ctx)
}

// respond answers with status, or with the status the request asks for, and
// forges audit.action on the server span when asked to.
func respond(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if forged := r.URL.Query().Get(forgeParam); forged != "" {
			trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("audit.action", forged))
		}
		// the authenticated user, as an application sets it on its server span
		if user := r.Header.Get(userHeader); user != "" {
			trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("enduser.id", user))
		}
		code := status
		if s, err := strconv.Atoi(r.URL.Query().Get(statusParam)); err == nil {
			code = s
		}
		w.WriteHeader(code)
	})
}

// accessLog emits one log record per request, in the request's trace context,
// with the HTTP attributes a Go access log carries. It sits between otelhttp
// and the ServeMux so that it sees the pattern the mux matched.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		attrs := []slog.Attr{
			slog.String("http.request.method", r.Method),
			slog.String("url.path", r.URL.Path),
			slog.Int("http.response.status_code", sw.status),
		}
		// r.Pattern is "METHOD /path/{param}"; http.route is the path part.
		if _, route, ok := strings.Cut(r.Pattern, " "); ok {
			attrs = append(attrs, slog.String("http.route", route))
		}
		if forged := r.URL.Query().Get(forgeParam); forged != "" {
			attrs = append(attrs, slog.String("audit.action", forged))
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, r.Method+" "+r.URL.Path, attrs...)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}
