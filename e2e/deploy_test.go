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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.yaml.in/yaml/v3"

	"github.com/otel-audit/auditprocessor/e2e/harness"
)

// The deployment files: deploy/kubernetes/ and the Dockerfile. These tests
// read them as Kubernetes and Docker would and check that they fit together
// and with the collector configuration the ConfigMap carries. No cluster, no
// image build: those cannot run here.
const (
	manifestsDir = "../deploy/kubernetes"
	dockerfile   = "../Dockerfile"
)

// object is one Kubernetes object as YAML gives it.
type object = map[string]any

func kindOf(o object) string { return str(o, "kind") }
func nameOf(o object) string { return str(o, "metadata", "name") }

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

// manifests holds every object of deploy/kubernetes, by kind and name.
type manifests struct {
	objects []object
	files   []string
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifestsDir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	m := &manifests{}
	for _, f := range files {
		m.files = append(m.files, filepath.Base(f))
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o object
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, f)
			if o == nil || kindOf(o) == "Kustomization" {
				continue
			}
			m.objects = append(m.objects, o)
		}
	}
	return m
}

// get returns the object of kind and name, failing the test when there is none.
func (m *manifests) get(t *testing.T, kind, name string) object {
	t.Helper()
	for _, o := range m.objects {
		if kindOf(o) == kind && nameOf(o) == name {
			return o
		}
	}
	t.Fatalf("no %s %q in %s", kind, name, manifestsDir)
	return nil
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

// container returns the Deployment's one container.
func container(t *testing.T, deploy object) map[string]any {
	t.Helper()
	cs := list(deploy, "spec", "template", "spec", "containers")
	require.Len(t, cs, 1, "containers")
	return cs[0].(map[string]any)
}

// mount is a container's volumeMount with the volume behind it.
type mount struct {
	path     string
	readOnly bool
	volume   map[string]any
}

func mounts(t *testing.T, deploy object) []mount {
	t.Helper()
	volumes := map[string]map[string]any{}
	for _, v := range list(deploy, "spec", "template", "spec", "volumes") {
		volumes[str(v, "name")] = v.(map[string]any)
	}
	var out []mount
	for _, vm := range list(container(t, deploy), "volumeMounts") {
		v, ok := volumes[str(vm, "name")]
		require.True(t, ok, "volumeMount %s names no volume", str(vm, "name"))
		assert.Empty(t, dig(vm, "subPath"), "%s: a subPath mount never sees ConfigMap updates", str(vm, "mountPath"))
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

func hostPort(t *testing.T, endpoint string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(endpoint)
	require.NoError(t, err, endpoint)
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

// TestManifests reads deploy/kubernetes and checks what a cluster would
// only show at run time: kinds and API versions, replicas, probes that hit
// the health_check extension's path and port, the security context, the
// resources, that every path the collector configuration names is mounted
// (catalog files, TLS files, the queue directory), and that the Service,
// the HorizontalPodAutoscaler and the PodDisruptionBudget find the pods.
func TestManifests(t *testing.T) {
	m := loadManifests(t)

	t.Run("kinds", func(t *testing.T) {
		var got []string
		for _, o := range m.objects {
			got = append(got, fmt.Sprintf("%s %s %s", str(o, "apiVersion"), kindOf(o), nameOf(o)))
		}
		assert.ElementsMatch(t, []string{
			"v1 Namespace otelcol-audit",
			"v1 ConfigMap otelcol-audit-config",
			"v1 ConfigMap otelcol-audit-catalogs",
			"apps/v1 Deployment otelcol-audit",
			"v1 Service otelcol-audit",
			"v1 Service otelcol-audit-headless",
			"autoscaling/v2 HorizontalPodAutoscaler otelcol-audit",
			"policy/v1 PodDisruptionBudget otelcol-audit",
		}, got)
		for _, o := range m.objects {
			if kindOf(o) != "Namespace" {
				assert.Equal(t, "otelcol-audit", str(o, "metadata", "namespace"), "%s %s", kindOf(o), nameOf(o))
			}
		}
		// kubectl apply -k applies what kustomization.yaml lists: all of it.
		data, err := os.ReadFile(filepath.Join(manifestsDir, "kustomization.yaml"))
		require.NoError(t, err)
		var k struct{ Resources []string }
		require.NoError(t, yaml.Unmarshal(data, &k))
		want := slices.DeleteFunc(slices.Clone(m.files), func(f string) bool { return f == "kustomization.yaml" })
		assert.ElementsMatch(t, want, k.Resources, "kustomization.yaml's resources")
	})

	deploy := m.get(t, "Deployment", "otelcol-audit")
	c := container(t, deploy)
	cfg, _ := m.collectorConfig(t)
	podLabels, _ := dig(deploy, "spec", "template", "metadata", "labels").(map[string]any)
	require.NotEmpty(t, podLabels)
	selects := func(t *testing.T, what string, selector any) {
		sel, _ := selector.(map[string]any)
		require.NotEmpty(t, sel, "%s: selector", what)
		for k, v := range sel {
			assert.Equal(t, v, podLabels[k], "%s: selector %s", what, k)
		}
	}

	t.Run("deployment", func(t *testing.T) {
		replicas, _ := dig(deploy, "spec", "replicas").(int)
		assert.GreaterOrEqual(t, replicas, 2, "replicas")
		selects(t, "Deployment", dig(deploy, "spec", "selector", "matchLabels"))
	})

	t.Run("probes", func(t *testing.T) {
		hc := dig(cfg, "extensions", "health_check")
		require.NotNil(t, hc, "the configuration has no health_check extension")
		assert.Contains(t, list(cfg, "service", "extensions"), "health_check", "health_check is not enabled")
		host, port := hostPort(t, str(hc, "endpoint"))
		assert.Equal(t, "0.0.0.0", host, "the kubelet probes the pod's IP: health_check must listen on it")
		wantPath := str(hc, "path")
		if wantPath == "" {
			wantPath = "/"
		}
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			get := dig(c, probe, "httpGet")
			require.NotNil(t, get, "%s.httpGet", probe)
			assert.Equal(t, wantPath, str(get, "path"), "%s path", probe)
			assert.Equal(t, port, namedPort(t, c, dig(get, "port")), "%s port", probe)
		}
	})

	t.Run("security_context", func(t *testing.T) {
		pod := dig(deploy, "spec", "template", "spec", "securityContext")
		assert.Equal(t, true, dig(pod, "runAsNonRoot"), "runAsNonRoot")
		uid, _ := dig(pod, "runAsUser").(int)
		assert.NotZero(t, uid, "runAsUser")
		assert.Equal(t, true, dig(c, "securityContext", "readOnlyRootFilesystem"), "readOnlyRootFilesystem")
		assert.Equal(t, false, dig(c, "securityContext", "allowPrivilegeEscalation"), "allowPrivilegeEscalation")
		assert.Equal(t, []any{"ALL"}, list(c, "securityContext", "capabilities", "drop"), "capabilities dropped")
	})

	t.Run("resources", func(t *testing.T) {
		for _, r := range []string{"cpu", "memory"} {
			req, lim := dig(c, "resources", "requests", r), dig(c, "resources", "limits", r)
			require.NotNil(t, req, "requests.%s", r)
			require.NotNil(t, lim, "limits.%s", r)
			assert.LessOrEqual(t, quantity(t, req), quantity(t, lim), r)
		}
		// memory_limiter must refuse data before the kernel kills the container.
		limitMiB, _ := dig(cfg, "processors", "memory_limiter", "limit_mib").(int)
		require.NotZero(t, limitMiB, "memory_limiter.limit_mib")
		assert.Less(t, float64(limitMiB), quantity(t, dig(c, "resources", "limits", "memory")), "memory_limiter.limit_mib under the container's memory limit")
	})

	t.Run("paths_mounted", func(t *testing.T) {
		ms := mounts(t, deploy)
		paths := configPaths(cfg)
		require.NotEmpty(t, list(cfg, "processors", "audit", "catalog_files"), "the ConfigMap's config names a catalog file")
		for _, p := range paths {
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
				// The queue: a writable volume of its own.
				assert.Equal(t, str(cfg, "extensions", "file_storage", "directory"), mt.path, "%s: on a writable volume that is not the queue's", p)
				assert.False(t, mt.readOnly, "the queue's volume is writable")
				assert.True(t, dig(mt.volume, "emptyDir") != nil || dig(mt.volume, "persistentVolumeClaim") != nil,
					"the queue is on an emptyDir or a PersistentVolumeClaim")
			}
		}
		assert.Contains(t, list(cfg, "service", "extensions"), "file_storage")
		// Every ${env:NAME} without a default is set in the pod.
		_, text := m.collectorConfig(t)
		env := map[string]bool{}
		for _, e := range list(c, "env") {
			env[str(e, "name")] = str(e, "value") != ""
		}
		for _, ref := range regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllStringSubmatch(text, -1) {
			assert.True(t, env[ref[1]], "the config reads ${env:%s}, which the Deployment does not set", ref[1])
		}
	})

	t.Run("otlp", func(t *testing.T) {
		svc := m.get(t, "Service", "otelcol-audit")
		selects(t, "Service", dig(svc, "spec", "selector"))
		headless := m.get(t, "Service", "otelcol-audit-headless")
		selects(t, "headless Service", dig(headless, "spec", "selector"))
		assert.Equal(t, "None", str(headless, "spec", "clusterIP"))
		servicePorts := map[int]bool{}
		for _, p := range list(svc, "spec", "ports") {
			servicePorts[namedPort(t, c, dig(p, "targetPort"))] = true
		}
		for _, proto := range []string{"grpc", "http"} {
			rcv := dig(cfg, "receivers", "otlp", "protocols", proto)
			host, port := hostPort(t, str(rcv, "endpoint"))
			assert.Equal(t, "0.0.0.0", host, "%s receiver: on the pod's IP", proto)
			assert.True(t, servicePorts[port], "the Service has no port to the %s receiver's %d", proto, port)
			assert.NotEmpty(t, str(rcv, "tls", "client_ca_file"), "%s receiver: mutual TLS", proto)
		}
	})

	t.Run("autoscaling", func(t *testing.T) {
		hpa := m.get(t, "HorizontalPodAutoscaler", "otelcol-audit")
		assert.Equal(t, "Deployment", str(hpa, "spec", "scaleTargetRef", "kind"))
		assert.Equal(t, nameOf(deploy), str(hpa, "spec", "scaleTargetRef", "name"))
		minReplicas, _ := dig(hpa, "spec", "minReplicas").(int)
		assert.GreaterOrEqual(t, minReplicas, 2, "minReplicas")
		ms := list(hpa, "spec", "metrics")
		require.Len(t, ms, 1)
		assert.Equal(t, "cpu", str(ms[0], "resource", "name"), "scales on CPU")
		// Utilization is relative to the CPU request, which must be set.
		assert.NotNil(t, dig(c, "resources", "requests", "cpu"))

		pdb := m.get(t, "PodDisruptionBudget", "otelcol-audit")
		selects(t, "PodDisruptionBudget", dig(pdb, "spec", "selector", "matchLabels"))
		maxUnavailable, ok := dig(pdb, "spec", "maxUnavailable").(int)
		require.True(t, ok, "maxUnavailable, as a number")
		assert.Less(t, maxUnavailable, minReplicas, "a disruption leaves a replica running")
		assert.Positive(t, maxUnavailable, "a node can still be drained")
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
// Deployment's non-root user; its command's configuration file is the one
// the ConfigMap mounts; the queue directory is a volume and the directory of
// file_storage; the mount points it provides are the Deployment's, the
// catalog directory among them; and the image `make image` builds is the
// Deployment's.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, dockerfile)
	named, final := stages(ins)
	build, ok := named["build"]
	require.True(t, ok, "a stage named build")
	m := loadManifests(t)
	deploy := m.get(t, "Deployment", "otelcol-audit")
	c := container(t, deploy)
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
	assert.Nil(t, dig(c, "command"), "the Deployment keeps the image's entrypoint")
	assert.Nil(t, dig(c, "args"), "the Deployment keeps the image's command")

	// The user: numeric (runAsNonRoot can only check a number), not root,
	// the Deployment's.
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	require.NoError(t, err, "USER %q is numeric", user)
	assert.NotZero(t, n, "USER is not root")
	assert.Equal(t, n, dig(deploy, "spec", "template", "spec", "securityContext", "runAsUser"), "the Deployment's runAsUser")

	// The configuration file is the ConfigMap's key, where the Deployment mounts it.
	require.Len(t, cmd, 1)
	configPath, ok := strings.CutPrefix(cmd[0], "--config=")
	require.True(t, ok, "CMD is --config=PATH: %q", cmd[0])
	ms := mounts(t, deploy)
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

	// The mount points the image provides are the ones the Deployment mounts.
	var provided, mounted []string
	for dst, in := range copies {
		if in.args[0] == "/empty" {
			provided = append(provided, dst)
		}
	}
	for _, mt := range ms {
		mounted = append(mounted, mt.path)
	}
	assert.ElementsMatch(t, mounted, provided, "the image's mount points and the Deployment's volumeMounts")
	catalogs := list(cfg, "processors", "audit", "catalog_files")
	require.NotEmpty(t, catalogs)
	for _, f := range catalogs {
		assert.Contains(t, provided, path.Dir(f.(string)), "the catalog directory of %s is a mount point of the image", f)
	}

	// `make image` builds the image the Deployment runs.
	assert.Equal(t, makeVar(t, "../build/dist.mk", "IMAGE"), str(c, "image"))
}

// layOut writes the ConfigMap-backed mounts of the Deployment under dir
// (dir/etc/otelcol-audit/catalogs/orders.yaml, ...), makes the other mount
// points there too, and returns the ConfigMap's collector configuration
// with every mount path moved under dir, and the Deployment's environment.
func layOut(t *testing.T, m *manifests, dir string) (config string, env []string) {
	t.Helper()
	deploy := m.get(t, "Deployment", "otelcol-audit")
	_, config = m.collectorConfig(t)
	for _, mt := range mounts(t, deploy) {
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
	for _, e := range list(container(t, deploy), "env") {
		env = append(env, str(e, "name")+"="+str(e, "value"))
	}
	return config, env
}

// TestManifestConfigValidates runs the distribution's validate command on
// the ConfigMap's collector configuration, with the catalogs ConfigMap
// written out where the configuration looks for them and the Deployment's
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

// TestManifestConfigRuns runs the ConfigMap's configuration as the pod
// would, its mounts laid out in a directory: the Secret's files are made by
// a CA of the test's, under the names the Deployment's items give. An
// orders service with a client certificate sends a span and an access log
// over mutual TLS; both arrive tagged with the catalog ConfigMap's action,
// with the span's event; a sender without a certificate is refused; and the
// probes' path answers 200 on health_check.
func TestManifestConfigRuns(t *testing.T) {
	binary := collectorBinary(t)
	m := loadManifests(t)
	dir := t.TempDir()
	config, _ := layOut(t, m, dir)
	tlsDir := filepath.Join(dir, "etc", "otelcol-audit", "tls")
	ca := newCA(t, tlsDir, "senders-ca")
	ca.issue(t, "collector", x509.ExtKeyUsageServerAuth)
	sender := ca.issue(t, "orders", x509.ExtKeyUsageClientAuth)
	for _, f := range []string{"collector.crt", "collector.key", "senders-ca.crt"} {
		require.FileExists(t, filepath.Join(tlsDir, f), "the Secret's item")
	}
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o644))

	backend := startBackend(t, "")
	events := startBackend(t, "")
	// The harness moves the receivers, health_check and metrics to free
	// loopback ports; the rest (TLS, catalogs, queue) is the ConfigMap's.
	col := startCollector(t, "collector", harness.CollectorOptions{
		Binary: binary, BaseConfig: path,
		ExportEndpoint: backend.URL, EventsEndpoint: events.URL,
	})

	// The probes: GET on the path they name, on health_check.
	probePath := str(container(t, m.get(t, "Deployment", "otelcol-audit")), "readinessProbe", "httpGet", "path")
	resp, err := http.Get(strings.TrimSuffix(col.HealthURL, "/") + probePath)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "readiness probe")

	client := httpClient(&tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{sender}})
	base := "https://" + col.HTTPEndpoint
	id := newTraceID()
	require.NoError(t, harness.ExportTraces(t.Context(), client, base, ordersSpan(id)))
	require.NoError(t, harness.ExportLogs(t.Context(), client, base, ordersLog(id)))
	err = harness.ExportTraces(t.Context(), httpClient(&tls.Config{RootCAs: ca.pool()}), base, ordersSpan(newTraceID()))
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
