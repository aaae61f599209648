package harness

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary play a collector (fakeCollector) when
// StartCollector runs it.
func TestMain(m *testing.M) {
	if os.Getenv("HARNESS_FAKE_COLLECTOR") == "1" {
		fakeCollector(os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

// fakeCollector binds every 127.0.0.1 port its --config files name, as a
// collector does (exiting with the collector's message when one is taken),
// answers the metrics endpoint and waits to be stopped. With
// HARNESS_FAKE_ARGS set, it first writes its arguments there, a line each.
func fakeCollector(args []string) {
	if path := os.Getenv("HARNESS_FAKE_ARGS"); path != "" {
		if err := os.WriteFile(path, []byte(strings.Join(args, "\n")), 0o600); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	}
	var ports []int
	endpoint := regexp.MustCompile(`127\.0\.0\.1:(\d+)|port: (\d+)`)
	for i := 0; i+1 < len(args); i += 2 {
		data, err := os.ReadFile(args[i+1])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		for _, m := range endpoint.FindAllStringSubmatch(string(data), -1) {
			p, _ := strconv.Atoi(m[1] + m[2])
			ports = append(ports, p)
		}
	}
	for _, p := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			fmt.Printf("Error: cannot start pipelines: %v\n", err) // "bind: address already in use"
			os.Exit(1)
		}
		go func() { _ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})) }()
	}
	select {}
}

// TestStartRetriesATakenPort: a port found free is taken by another
// program before the collector binds it; the collector exits for it, and
// StartCollector starts it again on new ports.
func TestStartRetriesATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	calls := 0
	freePort = func() (int, error) {
		calls++
		if calls == 2 { // the first start's HTTP receiver port
			return taken.Addr().(*net.TCPAddr).Port, nil
		}
		return pickPort()
	}
	defer func() { freePort = pickPort }()
	self, err := os.Executable()
	require.NoError(t, err)
	c, err := StartCollector(t.Context(), CollectorOptions{
		Binary: self, Dir: t.TempDir(), BaseConfig: os.DevNull, NoHealthCheck: true,
		Env: []string{"HARNESS_FAKE_COLLECTOR=1"},
	})
	require.NoError(t, err, "started again on new ports")
	defer func() { assert.NoError(t, c.Stop(5*time.Second)) }()
	assert.Equal(t, 8, calls, "two starts of four ports each")
	assert.NotEqual(t, taken.Addr().String(), c.HTTPEndpoint)
}

// TestFeatureGates: the collector is started with the options' feature
// gates, in one --feature-gates argument after its configuration files.
func TestFeatureGates(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	c, err := StartCollector(t.Context(), CollectorOptions{
		Binary: self, Dir: dir, BaseConfig: os.DevNull, NoHealthCheck: true,
		Env:          []string{"HARNESS_FAKE_COLLECTOR=1", "HARNESS_FAKE_ARGS=" + argsFile},
		FeatureGates: []string{"pdata.useProtoPooling", "example.gate"},
	})
	require.NoError(t, err)
	defer func() { assert.NoError(t, c.Stop(5*time.Second)) }()
	b, err := os.ReadFile(argsFile)
	require.NoError(t, err)
	args := strings.Split(string(b), "\n")
	assert.Equal(t, "--feature-gates=pdata.useProtoPooling,example.gate", args[len(args)-1], "all: %q", args)
	assert.Equal(t, "--config", args[0])
}
