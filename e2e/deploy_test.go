package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metricsql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// The deployment files: deploy/kubernetes/ (the audit collectors),
// deploy/monitoring/ (the same with a ServiceMonitor and the alerts) and the
// Dockerfile. These tests render the manifests with the pinned kustomize, as
// `kubectl apply -k` would, read them as Kubernetes and Docker would and
// check that they fit together and with the collector configuration the
// ConfigMap carries. No cluster, no image build: those cannot run here.
const (
	manifestsDir  = "../deploy/kubernetes"
	monitoringDir = "../deploy/monitoring"
	// toolsDir is the module that pins kustomize (go tool kustomize).
	toolsDir   = "../deploy/tools"
	dockerfile = "../Dockerfile"
	// workloadName names the StatefulSet and everything around it.
	workloadName = "otelcol-audit"
)

// object is one Kubernetes object as YAML gives it.
type object = map[string]any

func kindOf(o object) string { return str(o, "kind") }
func nameOf(o object) string { return str(o, "metadata", "name") }
func idOf(o object) string {
	return fmt.Sprintf("%s %s %s", str(o, "apiVersion"), kindOf(o), nameOf(o))
}

// dig walks maps by keys; nil when a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, keys ...string) string {
	s, _ := dig(v, keys...).(string)
	return s
}

func list(v any, keys ...string) []any {
	l, _ := dig(v, keys...).([]any)
	return l
}

func num(v any, keys ...string) int {
	n, _ := dig(v, keys...).(int)
	return n
}

// decodeObjects reads the YAML documents of data, leaving out empty ones
// and kustomizations.
func decodeObjects(t *testing.T, name string, data []byte) []object {
	t.Helper()
	var out []object
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, name)
		if o != nil && kindOf(o) != "Kustomization" {
			out = append(out, o)
		}
	}
}

// objectFiles returns the objects of the *.yaml files in dir, as they are
// written.
func objectFiles(t *testing.T, dir string) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []object
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, decodeObjects(t, f, data)...)
	}
	return out
}

var rendered struct {
	sync.Mutex
	byDir map[string][]object
}

// kustomize renders the kustomization in dir with the kustomize that
// deploy/tools pins (`go tool kustomize build`: the first run builds it,
// later ones take it from Go's cache), once per directory.
func kustomize(t *testing.T, dir string) []object {
	t.Helper()
	rendered.Lock()
	defer rendered.Unlock()
	if objs, ok := rendered.byDir[dir]; ok {
		return objs
	}
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "kustomize", "build", abs)
	cmd.Dir = toolsDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "kustomize build %s: %s", dir, stderr.String())
	objs := decodeObjects(t, "kustomize build "+dir, out)
	if rendered.byDir == nil {
		rendered.byDir = map[string][]object{}
	}
	rendered.byDir[dir] = objs
	return objs
}

// manifests holds every object `kubectl apply -k deploy/monitoring` applies:
// deploy/kubernetes and the monitoring objects.
type manifests struct {
	objects []object
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	return &manifests{objects: kustomize(t, monitoringDir)}
}

// get returns the object of kind and name, failing the test when there is none.
func (m *manifests) get(t *testing.T, kind, name string) object {
	t.Helper()
	for _, o := range m.objects {
		if kindOf(o) == kind && nameOf(o) == name {
			return o
		}
	}
	t.Fatalf("no %s %q in %s", kind, name, monitoringDir)
	return nil
}

// workload is the StatefulSet that runs the audit collectors.
func (m *manifests) workload(t *testing.T) object {
	t.Helper()
	return m.get(t, "StatefulSet", workloadName)
}

// collectorConfig is the collector configuration in the ConfigMap, parsed
// (anchors and merge keys resolved) and as text.
func (m *manifests) collectorConfig(t *testing.T) (map[string]any, string) {
	t.Helper()
	text := str(m.get(t, "ConfigMap", "otelcol-audit-config"), "data", configKey)
	require.NotEmpty(t, text, "the ConfigMap's %s", configKey)
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(text), &cfg))
	return cfg, text
}

const configKey = "config.yaml"

// podSpec is the workload's pod template's spec.
func podSpec(w object) any { return dig(w, "spec", "template", "spec") }

// container returns the workload's one container.
func container(t *testing.T, w object) map[string]any {
	t.Helper()
	cs := list(podSpec(w), "containers")
	require.Len(t, cs, 1, "containers")
	return cs[0].(map[string]any)
}

// mount is a container's volumeMount with the volume behind it: a volume of
// the pod, or a StatefulSet's volumeClaimTemplate, which appears as
// {persistentVolumeClaim: TEMPLATE}.
type mount struct {
	path     string
	readOnly bool
	volume   map[string]any
}

func mounts(t *testing.T, w object) []mount {
	t.Helper()
	volumes := map[string]map[string]any{}
	for _, v := range list(podSpec(w), "volumes") {
		volumes[str(v, "name")] = v.(map[string]any)
	}
	for _, c := range list(w, "spec", "volumeClaimTemplates") {
		name := str(c, "metadata", "name")
		_, dup := volumes[name]
		require.False(t, dup, "volume %s is both a volume and a claim template", name)
		volumes[name] = map[string]any{"name": name, "persistentVolumeClaim": c}
	}
	var out []mount
	for _, vm := range list(container(t, w), "volumeMounts") {
		v, ok := volumes[str(vm, "name")]
		require.True(t, ok, "volumeMount %s names no volume", str(vm, "name"))
		assert.Empty(t, dig(vm, "subPath"), "%s: a subPath mount never sees ConfigMap or Secret updates", str(vm, "mountPath"))
		ro, _ := dig(vm, "readOnly").(bool)
		out = append(out, mount{path: str(vm, "mountPath"), readOnly: ro, volume: v})
	}
	return out
}

// mountOf returns the mount that holds file (or is it), and file's path
// inside it ("" for the mount itself).
func mountOf(ms []mount, file string) (mount, string, bool) {
	for _, m := range ms {
		if file == m.path {
			return m, "", true
		}
		if rel, ok := strings.CutPrefix(file, m.path+"/"); ok {
			return m, rel, true
		}
	}
	return mount{}, "", false
}

// namedPort returns the container port named or numbered p.
func namedPort(t *testing.T, c map[string]any, p any) int {
	t.Helper()
	if n, ok := p.(int); ok {
		return n
	}
	for _, cp := range list(c, "ports") {
		if str(cp, "name") == p {
			return dig(cp, "containerPort").(int)
		}
	}
	t.Fatalf("the container has no port %v", p)
	return 0
}

// hostPort splits a configuration's endpoint, whose host may be a
// ${env:...} reference, at its last colon.
func hostPort(t *testing.T, endpoint string) (string, int) {
	t.Helper()
	i := strings.LastIndexByte(endpoint, ':')
	require.Positive(t, i, "%s: host:port", endpoint)
	host, port := endpoint[:i], endpoint[i+1:]
	n, err := strconv.Atoi(port)
	require.NoError(t, err, endpoint)
	return host, n
}

// quantity parses the Kubernetes quantities the manifests use: CPU in cores
// or millicores, memory in Ki, Mi or Gi; memory comes back in MiB.
func quantity(t *testing.T, q any) float64 {
	t.Helper()
	s := fmt.Sprint(q)
	for suffix, factor := range map[string]float64{"m": 0.001, "Ki": 1.0 / 1024, "Mi": 1, "Gi": 1024} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			require.NoError(t, err, s)
			return v * factor
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return v
}

// configPaths returns every file and directory the collector configuration names.
func configPaths(cfg map[string]any) []string {
	var paths []string
	for _, kind := range []string{"processors", "connectors"} {
		for _, f := range list(cfg, kind, "audit", "catalog_files") {
			paths = append(paths, f.(string))
		}
	}
	for _, proto := range []string{"grpc", "http"} {
		for _, key := range []string{"cert_file", "key_file", "client_ca_file", "ca_file"} {
			if p := str(cfg, "receivers", "otlp", "protocols", proto, "tls", key); p != "" {
				paths = append(paths, p)
			}
		}
	}
	for _, p := range []string{str(cfg, "extensions", "file_storage", "directory"), str(cfg, "extensions", "file_storage", "compaction", "directory")} {
		if p != "" {
			paths = append(paths, p)
		}
	}
	return paths
}

// listeners returns every address the collector configuration listens on,
// by what listens: the receivers, health_check and the metrics' reader.
func listeners(t *testing.T, cfg map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, proto := range []string{"grpc", "http"} {
		out["otlp "+proto] = str(cfg, "receivers", "otlp", "protocols", proto, "endpoint")
	}
	out["health_check"] = str(cfg, "extensions", "health_check", "endpoint")
	readers := list(cfg, "service", "telemetry", "metrics", "readers")
	require.Len(t, readers, 1, "the metrics' readers")
	prom := dig(readers[0], "pull", "exporter", "prometheus")
	out["metrics"] = fmt.Sprintf("%s:%v", str(prom, "host"), dig(prom, "port"))
	return out
}

// podIPVar is how the configuration names the pod's IP; the StatefulSet
// sets it from the downward API.
const podIPVar = "${env:POD_IP}"

// metricsPort is the port of the collector's own metrics (the Prometheus reader's).
func metricsPort(t *testing.T, cfg map[string]any) int {
	t.Helper()
	_, port := hostPort(t, listeners(t, cfg)["metrics"])
	return port
}

// duration parses a configuration's duration, "" as def.
func duration(t *testing.T, v any, def time.Duration) time.Duration {
	t.Helper()
	if v == nil {
		return def
	}
	d, err := time.ParseDuration(fmt.Sprint(v))
	require.NoError(t, err, "%v", v)
	return d
}

// alert is a rule of the PrometheusRule.
type alert struct {
	name, expr, severity, summary string
}

func alerts(t *testing.T, m *manifests) []alert {
	t.Helper()
	rule := m.get(t, "PrometheusRule", workloadName)
	var out []alert
	for _, g := range list(rule, "spec", "groups") {
		for _, r := range list(g, "rules") {
			out = append(out, alert{
				name: str(r, "alert"), expr: str(r, "expr"),
				severity: str(r, "labels", "severity"), summary: str(r, "annotations", "summary"),
			})
		}
	}
	return out
}

// selector is one series selector of an expression: a metric name and its
// label matchers.
type selector struct {
	name     string
	matchers []metricsql.LabelFilter
}

func (s selector) String() string {
	var b strings.Builder
	b.WriteString(s.name + "{")
	for i, m := range s.matchers {
		if i > 0 {
			b.WriteString(",")
		}
		op := map[[2]bool]string{{false, false}: "=", {false, true}: "=~", {true, false}: "!=", {true, true}: "!~"}[[2]bool{m.IsNegative, m.IsRegexp}]
		b.WriteString(m.Label + op + strconv.Quote(m.Value))
	}
	return b.String() + "}"
}

// selectors parses a PromQL expression (with MetricsQL's parser, which
// reads PromQL) and returns its series selectors.
func selectors(expr string) ([]selector, error) {
	e, err := metricsql.Parse(expr)
	if err != nil {
		return nil, err
	}
	var out []selector
	metricsql.VisitAll(e, func(e metricsql.Expr) {
		me, ok := e.(*metricsql.MetricExpr)
		if !ok {
			return
		}
		for _, group := range me.LabelFilterss {
			var s selector
			for _, lf := range group {
				if lf.Label == "__name__" && !lf.IsRegexp && !lf.IsNegative {
					s.name = lf.Value
					continue
				}
				s.matchers = append(s.matchers, lf)
			}
			out = append(out, s)
		}
	})
	return out, nil
}

// targetLabels are the labels Prometheus adds to what it scrapes through a
// ServiceMonitor; the collector's own series do not have them.
var targetLabels = []string{"job", "namespace", "pod", "instance", "service", "endpoint", "container"}

// TestManifests renders deploy/kubernetes and deploy/monitoring with the
// pinned kustomize and checks what a cluster would only show at run time:
// kinds and API versions, and that the kustomizations apply every file;
// the StatefulSet with a claim per replica for the queue and no replicas of
// its own; probes (startup, liveness, readiness) on health_check's path and
// port; a preStop and a grace period long enough to flush; the security
// context and no service-account token; the resources; that every path the
// collector configuration names is mounted (catalog files, TLS files, the
// queue directory); that it listens on the pod's IP only; mutual TLS with
// certificates reloaded; that the Services, the autoscaler and the
// disruption budget find the pods; scrape annotations, the metrics Service
// and the ServiceMonitor; the NetworkPolicy; and the alerts' form.
func TestManifests(t *testing.T) {
	m := loadManifests(t)

	t.Run("kinds", func(t *testing.T) {
		var got []string
		for _, o := range m.objects {
			got = append(got, idOf(o))
		}
		assert.ElementsMatch(t, []string{
			"v1 Namespace otelcol-audit",
			"v1 ServiceAccount otelcol-audit",
			"v1 ConfigMap otelcol-audit-config",
			"v1 ConfigMap otelcol-audit-catalogs",
			"apps/v1 StatefulSet otelcol-audit",
			"v1 Service otelcol-audit",
			"v1 Service otelcol-audit-headless",
			"v1 Service otelcol-audit-metrics",
			"autoscaling/v2 HorizontalPodAutoscaler otelcol-audit",
			"policy/v1 PodDisruptionBudget otelcol-audit",
			"networking.k8s.io/v1 NetworkPolicy otelcol-audit",
			"monitoring.coreos.com/v1 ServiceMonitor otelcol-audit",
			"monitoring.coreos.com/v1 PrometheusRule otelcol-audit",
		}, got)
		for _, o := range m.objects {
			if kindOf(o) != "Namespace" {
				assert.Equal(t, "otelcol-audit", str(o, "metadata", "namespace"), "%s %s", kindOf(o), nameOf(o))
			}
		}
		// kubectl apply -k applies what the kustomizations list: every
		// file, and as written (kustomize adds and changes nothing).
		base := kustomize(t, manifestsDir)
		assert.ElementsMatch(t, objectFiles(t, manifestsDir), base, "deploy/kubernetes: its files and what kustomize renders")
		monitoring := slices.DeleteFunc(slices.Clone(m.objects), func(o object) bool {
			return slices.ContainsFunc(base, func(b object) bool { return idOf(b) == idOf(o) })
		})
		assert.ElementsMatch(t, objectFiles(t, monitoringDir), monitoring, "deploy/monitoring: its files and what kustomize renders beside deploy/kubernetes")
	})

	w := m.workload(t)
	c := container(t, w)
	cfg, text := m.collectorConfig(t)
	podLabels, _ := dig(w, "spec", "template", "metadata", "labels").(map[string]any)
	require.NotEmpty(t, podLabels)
	selects := func(t *testing.T, what string, selector any) {
		sel, _ := selector.(map[string]any)
		require.NotEmpty(t, sel, "%s: selector", what)
		for k, v := range sel {
			assert.Equal(t, v, podLabels[k], "%s: selector %s", what, k)
		}
	}
	env := map[string]any{}
	for _, e := range list(c, "env") {
		env[str(e, "name")] = e
	}

	t.Run("statefulset", func(t *testing.T) {
		selects(t, "StatefulSet", dig(w, "spec", "selector", "matchLabels"))
		assert.Nil(t, dig(w, "spec", "replicas"), "replicas: the autoscaler owns the number; a value here resets it on every apply")
		assert.Equal(t, "Parallel", str(w, "spec", "podManagementPolicy"))
		assert.Equal(t, map[string]any{"whenDeleted": "Retain", "whenScaled": "Retain"}, dig(w, "spec", "persistentVolumeClaimRetentionPolicy"),
			"a claim, and the queue on it, outlives its replica")
		headless := m.get(t, "Service", str(w, "spec", "serviceName"))
		assert.Equal(t, "None", str(headless, "spec", "clusterIP"), "serviceName names a headless Service")
		selects(t, "headless Service", dig(headless, "spec", "selector"))

		claims := list(w, "spec", "volumeClaimTemplates")
		require.Len(t, claims, 1, "volumeClaimTemplates")
		assert.Equal(t, "queue", str(claims[0], "metadata", "name"))
		assert.Equal(t, []any{"ReadWriteOnce"}, list(claims[0], "spec", "accessModes"))
		assert.NotEqual(t, dig(env["AUDIT_OTLP_ENDPOINT"], "value"), dig(env["AUDIT_EVENTS_OTLP_ENDPOINT"], "value"),
			"the events go to a backend of their own, not the records'")
		assert.GreaterOrEqual(t, quantity(t, dig(claims[0], "spec", "resources", "requests", "storage")), 1024.0, "the claim's size, MiB")
	})

	t.Run("probes", func(t *testing.T) {
		hc := dig(cfg, "extensions", "health_check")
		require.NotNil(t, hc, "the configuration has no health_check extension")
		assert.Contains(t, list(cfg, "service", "extensions"), "health_check", "health_check is not enabled")
		_, port := hostPort(t, str(hc, "endpoint"))
		wantPath := str(hc, "path")
		if wantPath == "" {
			wantPath = "/"
		}
		budget := map[string]int{}
		for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
			get := dig(c, probe, "httpGet")
			require.NotNil(t, get, "%s.httpGet", probe)
			assert.Equal(t, wantPath, str(get, "path"), "%s path", probe)
			assert.Equal(t, port, namedPort(t, c, dig(get, "port")), "%s port", probe)
			budget[probe] = num(c, probe, "periodSeconds") * num(c, probe, "failureThreshold")
		}
		// Compacting a large queue at start takes a while: the startup
		// probe gives it minutes, the liveness probe then seconds.
		assert.Equal(t, true, dig(cfg, "extensions", "file_storage", "compaction", "on_start"))
		assert.GreaterOrEqual(t, budget["startupProbe"], 120, "the startup probe's budget, s")
		assert.Greater(t, budget["startupProbe"], budget["livenessProbe"])
		assert.Nil(t, dig(c, "livenessProbe", "initialDelaySeconds"), "the startup probe holds the liveness probe back")
	})

	t.Run("shutdown", func(t *testing.T) {
		sleep := num(c, "lifecycle", "preStop", "sleep", "seconds")
		assert.Positive(t, sleep, "a preStop sleep: the pod leaves the endpoints before SIGTERM (the image has no shell)")
		// Then SIGTERM: the exporters' requests in flight end within their timeout.
		var timeout time.Duration
		for _, exp := range dig(cfg, "exporters").(map[string]any) {
			d := duration(t, dig(exp, "timeout"), 30*time.Second) // the otlp_http exporter's default
			timeout = max(timeout, d)
		}
		grace := time.Duration(num(podSpec(w), "terminationGracePeriodSeconds")) * time.Second
		assert.GreaterOrEqual(t, grace, time.Duration(sleep)*time.Second+timeout, "terminationGracePeriodSeconds: the preStop sleep and an export's timeout")
	})

	t.Run("security_context", func(t *testing.T) {
		pod := dig(podSpec(w), "securityContext")
		assert.Equal(t, true, dig(pod, "runAsNonRoot"), "runAsNonRoot")
		assert.NotZero(t, num(pod, "runAsUser"), "runAsUser")
		assert.Equal(t, true, dig(c, "securityContext", "readOnlyRootFilesystem"), "readOnlyRootFilesystem")
		assert.Equal(t, false, dig(c, "securityContext", "allowPrivilegeEscalation"), "allowPrivilegeEscalation")
		assert.Equal(t, []any{"ALL"}, list(c, "securityContext", "capabilities", "drop"), "capabilities dropped")
		// The collector never calls the Kubernetes API: no token.
		assert.Equal(t, false, dig(podSpec(w), "automountServiceAccountToken"), "the pod's automountServiceAccountToken")
		sa := m.get(t, "ServiceAccount", str(podSpec(w), "serviceAccountName"))
		assert.Equal(t, false, dig(sa, "automountServiceAccountToken"), "the ServiceAccount's automountServiceAccountToken")
	})

	t.Run("resources", func(t *testing.T) {
		for _, r := range []string{"cpu", "memory"} {
			req, lim := dig(c, "resources", "requests", r), dig(c, "resources", "limits", r)
			require.NotNil(t, req, "requests.%s", r)
			require.NotNil(t, lim, "limits.%s", r)
			assert.LessOrEqual(t, quantity(t, req), quantity(t, lim), r)
		}
		// memory_limiter must refuse data before the kernel kills the container.
		limitMiB := num(cfg, "processors", "memory_limiter", "limit_mib")
		require.NotZero(t, limitMiB, "memory_limiter.limit_mib")
		assert.Less(t, float64(limitMiB), quantity(t, dig(c, "resources", "limits", "memory")), "memory_limiter.limit_mib under the container's memory limit")
	})

	t.Run("paths_mounted", func(t *testing.T) {
		ms := mounts(t, w)
		require.NotEmpty(t, list(cfg, "processors", "audit", "catalog_files"), "the ConfigMap's config names a catalog file")
		for _, p := range configPaths(cfg) {
			mt, rel, ok := mountOf(ms, p)
			if !assert.True(t, ok, "%s is on no volume the container mounts (the root filesystem is read-only)", p) {
				continue
			}
			switch {
			case dig(mt.volume, "configMap") != nil:
				cm := m.get(t, "ConfigMap", str(mt.volume, "configMap", "name"))
				assert.Contains(t, dig(cm, "data"), rel, "%s: ConfigMap %s has no key %s", p, nameOf(cm), rel)
				assert.True(t, mt.readOnly, "%s: mounted read-only", mt.path)
			case dig(mt.volume, "secret") != nil:
				var items []string
				for _, it := range list(mt.volume, "secret", "items") {
					items = append(items, str(it, "path"))
				}
				assert.Contains(t, items, rel, "%s: the Secret's items", p)
				assert.True(t, mt.readOnly, "%s: mounted read-only", mt.path)
			default:
				// The queue: a writable claim of the replica's own, which
				// outlives the pod (an emptyDir does not).
				assert.Equal(t, str(cfg, "extensions", "file_storage", "directory"), mt.path, "%s: on a writable volume that is not the queue's", p)
				assert.False(t, mt.readOnly, "the queue's volume is writable")
				assert.NotNil(t, dig(mt.volume, "persistentVolumeClaim"), "the queue is on a volumeClaimTemplate's claim")
			}
		}
		assert.Contains(t, list(cfg, "service", "extensions"), "file_storage")
		// Every ${env:NAME} without a default is set in the pod, by value or
		// from the downward API.
		for _, ref := range regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllStringSubmatch(text, -1) {
			e := env[ref[1]]
			assert.True(t, str(e, "value") != "" || dig(e, "valueFrom") != nil, "the config reads ${env:%s}, which the StatefulSet does not set", ref[1])
		}
	})

	t.Run("listeners", func(t *testing.T) {
		// On the pod's IP, which the Services, the kubelet and the scrapes
		// reach: not on 0.0.0.0, and not on loopback, which they do not.
		assert.Equal(t, "status.podIP", str(env["POD_IP"], "valueFrom", "fieldRef", "fieldPath"), "POD_IP")
		for what, addr := range listeners(t, cfg) {
			host, _ := hostPort(t, addr)
			assert.Equal(t, podIPVar, host, "%s listens on %s", what, addr)
		}
	})

	t.Run("otlp", func(t *testing.T) {
		svc := m.get(t, "Service", "otelcol-audit")
		selects(t, "Service", dig(svc, "spec", "selector"))
		servicePorts := map[int]bool{}
		for _, p := range list(svc, "spec", "ports") {
			servicePorts[namedPort(t, c, dig(p, "targetPort"))] = true
		}
		for _, proto := range []string{"grpc", "http"} {
			rcv := dig(cfg, "receivers", "otlp", "protocols", proto)
			_, port := hostPort(t, str(rcv, "endpoint"))
			assert.True(t, servicePorts[port], "the Service has no port to the %s receiver's %d", proto, port)
			assert.NotEmpty(t, str(rcv, "tls", "client_ca_file"), "%s receiver: mutual TLS", proto)
			// A renewed certificate is read without a restart.
			assert.Positive(t, duration(t, dig(rcv, "tls", "reload_interval"), 0), "%s receiver: tls.reload_interval", proto)
			assert.Equal(t, true, dig(rcv, "tls", "client_ca_file_reload"), "%s receiver: tls.client_ca_file_reload", proto)
		}
	})

	t.Run("autoscaling", func(t *testing.T) {
		hpa := m.get(t, "HorizontalPodAutoscaler", workloadName)
		assert.Equal(t, "StatefulSet", str(hpa, "spec", "scaleTargetRef", "kind"))
		assert.Equal(t, nameOf(w), str(hpa, "spec", "scaleTargetRef", "name"))
		minReplicas := num(hpa, "spec", "minReplicas")
		assert.GreaterOrEqual(t, minReplicas, 2, "minReplicas")
		ms := list(hpa, "spec", "metrics")
		require.Len(t, ms, 1)
		assert.Equal(t, "cpu", str(ms[0], "resource", "name"), "scales on CPU")
		// Utilization is relative to the CPU request, which must be set.
		assert.NotNil(t, dig(c, "resources", "requests", "cpu"))

		pdb := m.get(t, "PodDisruptionBudget", workloadName)
		selects(t, "PodDisruptionBudget", dig(pdb, "spec", "selector", "matchLabels"))
		maxUnavailable, ok := dig(pdb, "spec", "maxUnavailable").(int)
		require.True(t, ok, "maxUnavailable, as a number")
		assert.Less(t, maxUnavailable, minReplicas, "a disruption leaves a replica running")
		assert.Positive(t, maxUnavailable, "a node can still be drained")
	})

	t.Run("scraping", func(t *testing.T) {
		port := metricsPort(t, cfg)
		assert.Equal(t, port, namedPort(t, c, "metrics"), "the container's metrics port")
		annotations := dig(w, "spec", "template", "metadata", "annotations")
		assert.Equal(t, "true", str(annotations, "prometheus.io/scrape"))
		assert.Equal(t, strconv.Itoa(port), str(annotations, "prometheus.io/port"))
		assert.Equal(t, "/metrics", str(annotations, "prometheus.io/path"))

		sm := m.get(t, "ServiceMonitor", workloadName)
		assert.Contains(t, list(sm, "spec", "namespaceSelector", "matchNames"), "otelcol-audit")
		var scraped []object
		for _, o := range m.objects {
			if kindOf(o) != "Service" {
				continue
			}
			labels, _ := dig(o, "metadata", "labels").(map[string]any)
			matches := true
			for k, v := range dig(sm, "spec", "selector", "matchLabels").(map[string]any) {
				matches = matches && labels[k] == v
			}
			if matches {
				scraped = append(scraped, o)
			}
		}
		require.Len(t, scraped, 1, "the ServiceMonitor selects one Service")
		svc := scraped[0]
		assert.Equal(t, "otelcol-audit-metrics", nameOf(svc))
		selects(t, "metrics Service", dig(svc, "spec", "selector"))
		endpoints := list(sm, "spec", "endpoints")
		require.Len(t, endpoints, 1)
		var target any
		for _, p := range list(svc, "spec", "ports") {
			if str(p, "name") == str(endpoints[0], "port") {
				target = dig(p, "targetPort")
			}
		}
		require.NotNil(t, target, "the ServiceMonitor's port %q is a port of the Service", str(endpoints[0], "port"))
		assert.Equal(t, port, namedPort(t, c, target), "the metrics Service reaches the metrics port")
		assert.Equal(t, "/metrics", str(endpoints[0], "path"))
	})

	t.Run("network_policy", func(t *testing.T) {
		np := m.get(t, "NetworkPolicy", workloadName)
		selects(t, "NetworkPolicy", dig(np, "spec", "podSelector", "matchLabels"))
		assert.Equal(t, []any{"Ingress"}, list(np, "spec", "policyTypes"))
		open, restricted := map[int]bool{}, map[int]bool{}
		for _, rule := range list(np, "spec", "ingress") {
			for _, p := range list(rule, "ports") {
				port := namedPort(t, c, dig(p, "port"))
				if list(rule, "from") == nil {
					open[port] = true
				} else {
					restricted[port] = true
					for _, from := range list(rule, "from") {
						assert.NotNil(t, dig(from, "namespaceSelector", "matchLabels"), "the metrics' sources: a namespace")
					}
				}
			}
		}
		_, grpcPort := hostPort(t, listeners(t, cfg)["otlp grpc"])
		_, httpPort := hostPort(t, listeners(t, cfg)["otlp http"])
		assert.Equal(t, map[int]bool{grpcPort: true, httpPort: true}, open, "OTLP from anywhere (mutual TLS decides)")
		assert.Equal(t, map[int]bool{metricsPort(t, cfg): true}, restricted, "the metrics from the monitoring namespace only")
	})

	t.Run("alerts", func(t *testing.T) {
		job := "otelcol-audit-metrics" // the ServiceMonitor's Service: Prometheus's job label
		m.get(t, "Service", job)
		var names []string
		for _, a := range alerts(t, m) {
			names = append(names, a.name)
			assert.Contains(t, []string{"warning", "critical"}, a.severity, "%s: severity", a.name)
			assert.NotEmpty(t, a.summary, "%s: summary", a.name)
			sels, err := selectors(a.expr)
			if !assert.NoError(t, err, "%s: expr", a.name) {
				continue
			}
			require.NotEmpty(t, sels, a.name)
			for _, s := range sels {
				assert.True(t, strings.HasPrefix(s.name, "otelcol_"), "%s: %s is not a collector's metric", a.name, s)
				assert.Contains(t, s.matchers, metricsql.LabelFilter{Label: "job", Value: job}, "%s: %s selects only the audit collectors", a.name, s)
			}
		}
		// What docs/production.md, "What to alert on", lists.
		assert.ElementsMatch(t, []string{
			"OtelcolAuditQueueNearlyFull", "OtelcolAuditQueueFull", "OtelcolAuditSendFailed", "OtelcolAuditMemoryRefusing",
			"OtelcolAuditRecordsMalformed", "OtelcolAuditRecordsUnauthorized", "OtelcolAuditCatalogReloadFailing", "OtelcolAuditEventsUnsigned",
			"OtelcolAuditNoEvents",
		}, names)
	})
}

// instruction is one instruction of a Dockerfile.
type instruction struct {
	cmd   string // upper case: FROM, COPY, ...
	flags map[string]string
	args  []string
	json  bool // written in exec (JSON) form
}

// parseDockerfile reads a Dockerfile's instructions: comments dropped,
// continuation lines joined, --flags split off, exec form decoded.
func parseDockerfile(t *testing.T, name string) []instruction {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	var out []instruction
	var line string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || (text == "" && line == "") {
			continue
		}
		if cont, ok := strings.CutSuffix(text, "\\"); ok {
			line += cont + " "
			continue
		}
		line += text
		cmd, rest, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), flags: map[string]string{}}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			var flag string
			flag, rest, _ = strings.Cut(rest, " ")
			k, v, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
			in.flags[k] += v
			rest = strings.TrimSpace(rest)
		}
		if strings.HasPrefix(rest, "[") {
			require.NoError(t, json.Unmarshal([]byte(rest), &in.args), line)
			in.json = true
		} else {
			in.args = strings.Fields(rest)
		}
		out = append(out, in)
		line = ""
	}
	require.NoError(t, sc.Err())
	return out
}

// stages splits instructions at each FROM, by stage name ("" for the last
// unnamed one); final is the last stage.
func stages(ins []instruction) (named map[string][]instruction, final []instruction) {
	named = map[string][]instruction{}
	var cur []instruction
	name := ""
	flush := func() {
		if cur != nil {
			named[name] = cur
			final = cur
		}
	}
	for _, in := range ins {
		if in.cmd == "FROM" {
			flush()
			cur, name = nil, ""
			if len(in.args) == 3 && strings.EqualFold(in.args[1], "AS") {
				name = in.args[2]
			}
		}
		cur = append(cur, in)
	}
	flush()
	return named, final
}

// makeVar returns the value a makefile assigns to name (NAME := v or ?= v).
func makeVar(t *testing.T, file, name string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + name + `\s*[:?]?=\s*(\S+)\s*$`).FindSubmatch(data)
	require.NotNil(t, m, "%s in %s", name, file)
	return string(m[1])
}

// TestDockerfile checks the image against the build and the manifests: the
// build stage runs `make dist` on the Go release of go.mod and the image
// copies the binary it makes to the entrypoint; the image runs as the
// StatefulSet's non-root user; its command's configuration file is the one
// the ConfigMap mounts; the queue directory is a volume and the directory of
// file_storage; the mount points it provides are the StatefulSet's, the
// catalog directory among them; and the image `make image` builds is the
// StatefulSet's.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, dockerfile)
	named, final := stages(ins)
	build, ok := named["build"]
	require.True(t, ok, "a stage named build")
	m := loadManifests(t)
	w := m.workload(t)
	c := container(t, w)
	cfg, _ := m.collectorConfig(t)

	// The build stage: golang:<go.mod's version>, `make dist`.
	goMod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	require.NotNil(t, goVersion)
	var argGo string
	for _, in := range ins {
		if in.cmd == "ARG" && strings.HasPrefix(in.args[0], "GO_VERSION=") {
			argGo = strings.TrimPrefix(in.args[0], "GO_VERSION=")
		}
	}
	assert.Equal(t, string(goVersion[1]), argGo, "ARG GO_VERSION is go.mod's go version")
	assert.Equal(t, "golang:${GO_VERSION}", build[0].args[0], "the build stage's base image")
	workdir := ""
	madeDist := false
	for _, in := range build {
		switch in.cmd {
		case "WORKDIR":
			workdir = in.args[0]
		case "RUN":
			madeDist = madeDist || strings.Contains(strings.Join(in.args, " "), "make dist")
		}
	}
	assert.True(t, madeDist, "the build stage runs make dist (the pinned OCB)")
	binary := path.Join(workdir, makeVar(t, "../build/dist.mk", "DIST_BIN"))

	// The final stage.
	var entrypoint, cmd, volumes []string
	user := ""
	copies := map[string]instruction{} // by destination
	for _, in := range final[1:] {
		switch in.cmd {
		case "ENTRYPOINT":
			require.True(t, in.json, "ENTRYPOINT in exec form: the collector gets the signals")
			entrypoint = in.args
		case "CMD":
			require.True(t, in.json, "CMD in exec form")
			cmd = in.args
		case "USER":
			user = in.args[0]
		case "VOLUME":
			volumes = append(volumes, in.args...)
		case "COPY":
			copies[in.args[len(in.args)-1]] = in
		}
	}
	require.Len(t, entrypoint, 1)
	bin, ok := copies[entrypoint[0]]
	if assert.True(t, ok, "nothing is copied to the entrypoint %s", entrypoint[0]) {
		assert.Equal(t, "build", bin.flags["from"])
		assert.Equal(t, binary, bin.args[0], "the entrypoint is the binary make dist builds")
	}
	assert.Nil(t, dig(c, "command"), "the StatefulSet keeps the image's entrypoint")
	assert.Nil(t, dig(c, "args"), "the StatefulSet keeps the image's command")

	// The user: numeric (runAsNonRoot can only check a number), not root,
	// the StatefulSet's.
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	require.NoError(t, err, "USER %q is numeric", user)
	assert.NotZero(t, n, "USER is not root")
	assert.Equal(t, n, dig(podSpec(w), "securityContext", "runAsUser"), "the StatefulSet's runAsUser")

	// The configuration file is the ConfigMap's key, where the StatefulSet mounts it.
	require.Len(t, cmd, 1)
	configPath, ok := strings.CutPrefix(cmd[0], "--config=")
	require.True(t, ok, "CMD is --config=PATH: %q", cmd[0])
	ms := mounts(t, w)
	mt, rel, ok := mountOf(ms, configPath)
	if assert.True(t, ok, "the image's configuration %s is on no mount", configPath) {
		assert.Equal(t, "otelcol-audit-config", str(mt.volume, "configMap", "name"))
		assert.Equal(t, configKey, rel)
	}

	// The queue: file_storage's directory, a VOLUME, owned by the user.
	queue := str(cfg, "extensions", "file_storage", "directory")
	assert.Equal(t, []string{queue}, volumes, "VOLUME is the queue's directory")
	if q, ok := copies[queue]; assert.True(t, ok, "the image makes the queue directory") {
		assert.Equal(t, user, q.flags["chown"], "the queue directory belongs to the collector's user")
	}

	// The mount points the image provides are the ones the StatefulSet mounts.
	var provided, mounted []string
	for dst, in := range copies {
		if in.args[0] == "/empty" {
			provided = append(provided, dst)
		}
	}
	for _, mt := range ms {
		mounted = append(mounted, mt.path)
	}
	assert.ElementsMatch(t, mounted, provided, "the image's mount points and the StatefulSet's volumeMounts")
	catalogs := list(cfg, "processors", "audit", "catalog_files")
	require.NotEmpty(t, catalogs)
	for _, f := range catalogs {
		assert.Contains(t, provided, path.Dir(f.(string)), "the catalog directory of %s is a mount point of the image", f)
	}

	// `make image` builds the image the StatefulSet runs.
	assert.Equal(t, makeVar(t, "../build/dist.mk", "IMAGE"), str(c, "image"))
}

// layOut writes the ConfigMap-backed mounts of the StatefulSet under dir
// (dir/etc/otelcol-audit/catalogs/orders.yaml, ...), makes the other mount
// points there too, and returns the ConfigMap's collector configuration
// with every mount path moved under dir, and the StatefulSet's environment.
func layOut(t *testing.T, m *manifests, dir string) (config string, env []string) {
	t.Helper()
	w := m.workload(t)
	_, config = m.collectorConfig(t)
	for _, mt := range mounts(t, w) {
		local := filepath.Join(dir, filepath.FromSlash(mt.path))
		require.NoError(t, os.MkdirAll(local, 0o755))
		if name := str(mt.volume, "configMap", "name"); name != "" {
			for key, value := range dig(m.get(t, "ConfigMap", name), "data").(map[string]any) {
				require.NoError(t, os.WriteFile(filepath.Join(local, key), []byte(value.(string)), 0o644))
			}
		}
		config = strings.ReplaceAll(config, mt.path+"/", local+"/")
		config = strings.ReplaceAll(config, mt.path+"\n", local+"\n")
	}
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(config), &cfg))
	for _, p := range configPaths(cfg) {
		require.True(t, strings.HasPrefix(p, dir+"/"), "%s: not moved under the test's directory", p)
	}
	for _, e := range list(container(t, w), "env") {
		value := str(e, "value")
		if str(e, "valueFrom", "fieldRef", "fieldPath") == "status.podIP" {
			value = "127.0.0.1" // the pod's IP, here
		}
		env = append(env, str(e, "name")+"="+value)
	}
	return config, env
}

// TestManifestConfigValidates runs the distribution's validate command on
// the ConfigMap's collector configuration, with the catalogs ConfigMap
// written out where the configuration looks for them and the StatefulSet's
// environment; and checks, as the control, that a catalog the ConfigMap
// lacks fails it.
func TestManifestConfigValidates(t *testing.T) {
	binary := collectorBinary(t)
	text, env := layOut(t, loadManifests(t), t.TempDir())
	run := func(config string) (string, error) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "config.yaml")
		require.NoError(t, os.WriteFile(path, []byte(config), 0o644))
		return execCommand(t, env, binary, "validate", "--config", path)
	}
	out, err := run(text)
	require.NoError(t, err, "validate:\n%s", out)

	// The control: a catalog file the ConfigMap does not have.
	require.Contains(t, text, "/orders.yaml]")
	out, err = run(strings.Replace(text, "/orders.yaml]", "/payments.yaml]", 1))
	require.Error(t, err)
	assert.Contains(t, out, "payments.yaml: no such file or directory")
}

// podRun is the ConfigMap's configuration running as the pod would run it.
type podRun struct {
	col *harness.Collector
	// dir holds the pod's mounts (dir/etc/otelcol-audit/...).
	dir string
	// ca signs the collector's certificate and the senders'; sender is a
	// client certificate of the orders service.
	ca     *certAuthority
	sender tls.Certificate
}

// tlsDir is where the pod's Secret is laid out.
func (p *podRun) tlsDir() string { return filepath.Join(p.dir, "etc", "otelcol-audit", "tls") }

// client is an HTTP client with the orders service's client certificate.
func (p *podRun) client() *http.Client {
	return httpClient(&tls.Config{RootCAs: p.ca.pool(), Certificates: []tls.Certificate{p.sender}})
}

// runPod runs the ConfigMap's configuration with its mounts laid out in a
// directory: the Secret's files are made by a CA of the test's, under the
// names the StatefulSet's items give. The harness moves the receivers,
// health_check and metrics to free loopback ports and sets the exporters'
// endpoints (opts); the rest (TLS, catalogs, queue) is the ConfigMap's.
func runPod(t *testing.T, m *manifests, opts harness.CollectorOptions) *podRun {
	t.Helper()
	p := &podRun{dir: t.TempDir()}
	config, env := layOut(t, m, p.dir)
	p.ca = newCA(t, p.tlsDir(), "senders-ca")
	p.ca.issue(t, "collector", x509.ExtKeyUsageServerAuth)
	p.sender = p.ca.issue(t, "orders", x509.ExtKeyUsageClientAuth)
	for _, f := range []string{"collector.crt", "collector.key", "senders-ca.crt"} {
		require.FileExists(t, filepath.Join(p.tlsDir(), f), "the Secret's item")
	}
	path := filepath.Join(p.dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o644))
	opts.Binary, opts.BaseConfig, opts.Env = collectorBinary(t), path, append(env, opts.Env...)
	p.col = startCollector(t, "collector", opts)
	return p
}

// TestManifestConfigRuns runs the ConfigMap's configuration as the pod
// would (runPod). An orders service with a client certificate sends a span
// and an access log over mutual TLS; both arrive tagged with the catalog
// ConfigMap's action, with the span's event; a sender without a
// certificate is refused; and the probes' path answers 200 on health_check.
func TestManifestConfigRuns(t *testing.T) {
	m := loadManifests(t)
	backend := startBackend(t, "")
	events := startBackend(t, "")
	p := runPod(t, m, harness.CollectorOptions{ExportEndpoint: backend.URL, EventsEndpoint: events.URL})
	col := p.col

	// The probes: GET on the path they name, on health_check.
	probePath := str(container(t, m.workload(t)), "readinessProbe", "httpGet", "path")
	resp, err := http.Get(strings.TrimSuffix(col.HealthURL, "/") + probePath)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "readiness probe")

	base := "https://" + col.HTTPEndpoint
	id := newTraceID()
	require.NoError(t, harness.ExportTraces(t.Context(), p.client(), base, ordersSpan(id)))
	require.NoError(t, harness.ExportLogs(t.Context(), p.client(), base, ordersLog(id)))
	err = harness.ExportTraces(t.Context(), httpClient(&tls.Config{RootCAs: p.ca.pool()}), base, ordersSpan(newTraceID()))
	assert.ErrorContains(t, err, "tls: certificate required", "a sender without a client certificate")

	waitFor(t, 30*time.Second, "the span, the access log and the event", func() (bool, string) {
		return len(backend.Records()) >= 2 && len(events.Records()) >= 1,
			fmt.Sprintf("%d records, %d events", len(backend.Records()), len(events.Records()))
	})
	recs := append(backend.Records(), events.Records()...)
	require.Len(t, recs, 3)
	for _, rec := range recs {
		assert.Equal(t, id, rec.TraceID)
	}
	for _, rec := range backend.Records() {
		assert.Equal(t, map[string]string{"audit.action": "orders.order.create", "audit.outcome": "success", "audit.region": "us-south"},
			map[string]string{"audit.action": rec.Str("audit.action"), "audit.outcome": rec.Str("audit.outcome"), "audit.region": rec.Str("audit.region")},
			rec.Signal)
	}
	assert.Equal(t, "orders.order.create", events.Records()[0].Body.Map().AsRaw()["action"], "the event's action")
}

// servedSerial connects to addr in a new TLS session and returns the serial
// number of the certificate the server presents.
func servedSerial(p *podRun, addr string) (string, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.ca.pool(), Certificates: []tls.Certificate{p.sender}})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

func serialOf(t *testing.T, c tls.Certificate) string {
	t.Helper()
	cert, err := x509.ParseCertificate(c.Certificate[0])
	require.NoError(t, err)
	return cert.SerialNumber.String()
}

// TestManifestCertificateRotation: the ConfigMap's receivers read a renewed
// certificate from the Secret's files without a restart (tls.reload_interval;
// TestManifests checks that it is set). The interval is made 1s here
// instead of the ConfigMap's minutes. A new certificate is written over the
// collector's; new connections, on both protocols, get it, and a sender's
// request is still served.
func TestManifestCertificateRotation(t *testing.T) {
	m := loadManifests(t)
	backend := startBackend(t, "")
	p := runPod(t, m, harness.CollectorOptions{ExportEndpoint: backend.URL, EventsEndpoint: backend.URL, Overrides: []string{`
receivers:
  otlp:
    protocols:
      grpc:
        tls:
          reload_interval: 1s
      http:
        tls:
          reload_interval: 1s
`}})
	first, err := tls.LoadX509KeyPair(filepath.Join(p.tlsDir(), "collector.crt"), filepath.Join(p.tlsDir(), "collector.key"))
	require.NoError(t, err)
	for _, addr := range []string{p.col.GRPCEndpoint, p.col.HTTPEndpoint} {
		got, err := servedSerial(p, addr)
		require.NoError(t, err)
		require.Equal(t, serialOf(t, first), got, "%s: the first certificate", addr)
	}

	renewed := serialOf(t, p.ca.issue(t, "collector", x509.ExtKeyUsageServerAuth))
	for _, addr := range []string{p.col.GRPCEndpoint, p.col.HTTPEndpoint} {
		// A handshake between the writes of the certificate and of its key
		// fails; a Secret's update, a swap of its directory, has no such moment.
		waitFor(t, 15*time.Second, addr+" to serve the renewed certificate", func() (bool, string) {
			got, err := servedSerial(p, addr)
			return err == nil && got == renewed, fmt.Sprintf("serves %s (%v)", got, err)
		})
	}
	require.NoError(t, harness.ExportTraces(t.Context(), p.client(), "https://"+p.col.HTTPEndpoint, ordersSpan(newTraceID())))
	assert.NoError(t, p.col.Exited(), "the collector did not restart")
}

// TestAlertMetrics: every series the alerts of deploy/monitoring select is
// one the distribution exports, names and label values alike. It runs the
// ConfigMap's configuration (runPod) and makes each metric appear, as a
// cluster would in the worst of days: the records' backend refuses what it
// gets for good (400: send failures), then is down (503) while the records'
// queue, made small, fills (enqueue failures); a record the processor
// cannot read arrives (malformed); the catalog ConfigMap's file is replaced
// by a broken one (a failed reload). Then it scrapes the collector and
// finds a series for every selector; the labels Prometheus adds
// (job, namespace, pod, ...) are TestManifests's.
func TestAlertMetrics(t *testing.T) {
	m := loadManifests(t)
	type sel struct {
		alert string
		selector
	}
	var sels []sel
	for _, a := range alerts(t, m) {
		ss, err := selectors(a.expr)
		require.NoError(t, err, a.name)
		for _, s := range ss {
			sels = append(sels, sel{a.name, s})
		}
	}
	require.NotEmpty(t, sels)

	var status atomic.Int32
	status.Store(http.StatusBadRequest)
	records := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(records.Close)
	events := startBackend(t, "")
	const capacity = 2
	// integrity on, a checkpoint after every event: the chain's series exist
	key, _ := chainKey(t, t.TempDir(), "checkpoints")
	p := runPod(t, m, harness.CollectorOptions{ExportEndpoint: records.URL, EventsEndpoint: events.URL, Overrides: []string{fmt.Sprintf(`
processors:
  audit:
    services:
      speech-to-text:
        senders: ["spiffe://example.org/ns/stt/*"]
connectors:
  audit:
    services:
      speech-to-text:
        senders: ["spiffe://example.org/ns/stt/*"]
    integrity:
      private_key_file: %q
      checkpoint_events: 1
exporters:
  otlp_http:
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 500ms
    sending_queue:
      queue_size: %d
      batch:
        min_size: %d
        max_size: %d
`, key, capacity, capacity, capacity)}})
	base := "https://" + p.col.HTTPEndpoint
	otlpHTTP := map[string]string{"exporter": "otlp_http"}

	// The backend refuses for good: the records are dropped and counted.
	require.NoError(t, harness.ExportTraces(t.Context(), p.client(), base, ordersSpan(newTraceID())))
	require.NoError(t, harness.ExportLogs(t.Context(), p.client(), base, ordersLog(newTraceID())))
	malformed := ordersSpan(newTraceID())
	malformed.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutInt("http.request.method", 1)
	require.NoError(t, harness.ExportTraces(t.Context(), p.client(), base, malformed))
	waitMetrics(t, p.col.MetricsURL, "the send failures and the event", func(m harness.Metrics) bool {
		return m.Sum("otelcol_exporter_send_failed_spans", otlpHTTP) == 2 && m.Sum("otelcol_exporter_send_failed_log_records", otlpHTTP) == 1 &&
			m.Sum("otelcol_exporter_sent_log_records", map[string]string{"exporter": "otlp_http/events"}) >= 1
	})

	// The backend is down: the records' queue fills, and what comes next is refused.
	status.Store(http.StatusServiceUnavailable)
	for i := range capacity + 1 {
		errSpan := harness.ExportTraces(t.Context(), p.client(), base, ordersSpan(newTraceID()))
		errLog := harness.ExportLogs(t.Context(), p.client(), base, ordersLog(newTraceID()))
		if i < capacity {
			require.NoError(t, errSpan, "span %d", i)
			require.NoError(t, errLog, "log record %d", i)
			continue
		}
		var refused *harness.ExportError
		for _, err := range []error{errSpan, errLog} {
			require.ErrorAs(t, err, &refused, "the queue is full")
			assert.Equal(t, http.StatusServiceUnavailable, refused.StatusCode)
		}
	}

	// speech-to-text lists its senders, and this batch has none: the processor
	// counts it unauthorized before the full queue refuses it.
	_ = harness.ExportTraces(t.Context(), p.client(), base, auditedSpan(newTraceID()))

	// A broken catalog in the ConfigMap: the reload fails, the last good one stays.
	catalog := filepath.Join(p.dir, "etc", "otelcol-audit", "catalogs", "orders.yaml")
	require.FileExists(t, catalog)
	require.NoError(t, os.WriteFile(catalog, []byte("service: orders\nevents: [\n"), 0o644))
	got := waitMetrics(t, p.col.MetricsURL, "the failed reload", func(m harness.Metrics) bool {
		return m.Sum("otelcol_processor_audit_catalog_reloads", map[string]string{"result": "failure"}) > 0 &&
			m.Sum("otelcol_processor_audit_records_unauthorized", nil) > 0
	})

	for _, s := range sels {
		found := false
		for _, sample := range got {
			found = found || (sample.Name == s.name && s.matches(t, sample.Labels))
		}
		assert.True(t, found, "%s: no series %s in the collector's metrics:\n%s", s.alert, s.selector, dump(got))
	}
}

// matches says whether labels satisfy the selector's matchers, leaving out
// the labels Prometheus adds to a target's series.
func (s selector) matches(t *testing.T, labels map[string]string) bool {
	t.Helper()
	for _, m := range s.matchers {
		if slices.Contains(targetLabels, m.Label) {
			continue
		}
		ok := labels[m.Label] == m.Value
		if m.IsRegexp {
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			require.NoError(t, err, m.Value)
			ok = re.MatchString(labels[m.Label])
		}
		if ok == m.IsNegative {
			return false
		}
	}
	return true
}

// ordersSpan and ordersLog are a request of the ConfigMap's orders catalog,
// from us-south, where orders sends audit events.
func ordersSpan(id pcommon.TraceID) ptrace.Traces {
	td := auditedSpan(id)
	rs := td.ResourceSpans().At(0)
	ordersRequest(rs.Resource().Attributes(), rs.ScopeSpans().At(0).Spans().At(0).Attributes())
	rs.ScopeSpans().At(0).Spans().At(0).SetName("POST /api/orders")
	return td
}

func ordersLog(id pcommon.TraceID) plog.Logs {
	ld := auditedLog(id)
	rl := ld.ResourceLogs().At(0)
	ordersRequest(rl.Resource().Attributes(), rl.ScopeLogs().At(0).LogRecords().At(0).Attributes())
	return ld
}

func ordersRequest(res, attrs pcommon.Map) {
	res.PutStr("service.name", "orders")
	res.PutStr("cloud.region", "us-south")
	attrs.PutStr("url.path", "/api/orders")
	attrs.PutStr("http.route", "/api/orders")
}

// execCommand runs name with args and env added to the environment, and
// returns its combined output.
func execCommand(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
