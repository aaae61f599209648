package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otel-audit/auditprocessor/internal/audittest"
)

// A transcript is a file of commands, each a line "$ auditcatalog ARGS"
// followed by what it prints (standard output and standard error as one
// stream, as on a terminal) and, when it fails, a last line "[exit N]".

type step struct {
	args   []string
	output string
}

func readTranscript(t *testing.T, text string) []step {
	t.Helper()
	var steps []step
	for _, line := range strings.SplitAfter(text, "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ auditcatalog "); ok {
			args, err := splitArgs(strings.TrimSpace(cmd))
			require.NoError(t, err, line)
			steps = append(steps, step{args: args})
			continue
		}
		require.NotEmpty(t, steps, "output before the first command: %q", line)
		steps[len(steps)-1].output += line
	}
	return steps
}

// splitArgs splits a command line at spaces, honouring '...' and "..." quotes.
func splitArgs(s string) ([]string, error) {
	var args []string
	var b strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ':
			if in {
				args = append(args, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		args = append(args, b.String())
	}
	return args, nil
}

// runStep runs one command in process and returns its transcript output.
func runStep(args []string) string {
	var out bytes.Buffer
	code := run(args, &out, &out)
	if code != exitOK {
		fmt.Fprintf(&out, "[exit %d]\n", code)
	}
	return out.String()
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"{}*$?[]\\") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// TestTranscripts runs every testdata/*.txt transcript from testdata/ and
// compares the output; -update rewrites them.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	t.Chdir("testdata")
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(name)
			require.NoError(t, err)
			var rewritten strings.Builder
			for _, s := range readTranscript(t, string(data)) {
				got := runStep(s.args)
				fmt.Fprintf(&rewritten, "$ auditcatalog %s\n%s", quoteArgs(s.args), got)
				if !*audittest.Update {
					assert.Equal(t, s.output, got, "auditcatalog %s", quoteArgs(s.args))
				}
			}
			if *audittest.Update {
				require.NoError(t, os.WriteFile(name, []byte(rewritten.String()), 0o644))
			}
		})
	}
}

func TestSplitArgs(t *testing.T) {
	args, err := splitArgs(`import -display-name "Speech to Text" -o 'a b.yaml'  page.md ""`)
	require.NoError(t, err)
	assert.Equal(t, []string{"import", "-display-name", "Speech to Text", "-o", "a b.yaml", "page.md", ""}, args)
	_, err = splitArgs(`match GET '/v1/x`)
	assert.EqualError(t, err, `unterminated quote in "match GET '/v1/x"`)
}
