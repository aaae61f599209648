package auditprocessor

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#+ (.*)$`)
	mdFence   = regexp.MustCompile("(?s)```.*?```")
)

// anchors returns the anchors of a Markdown file's headings, as GitHub
// makes them: lower case, punctuation dropped, spaces as dashes.
func anchors(t *testing.T, path string) map[string]bool {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	drop := regexp.MustCompile(`[^\w\- ]`)
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(string(data), ""), -1) {
		out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(m[1])), ""), " ", "-")] = true
	}
	return out
}

// TestDocLinks: every relative link of every Markdown file of the
// repository names a file that exists, and every anchor a heading of it.
func TestDocLinks(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == "dist" || path == "bin" || strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range mdLink.FindAllStringSubmatch(mdFence.ReplaceAllString(string(data), ""), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(link, "#")
			target := path
			if file != "" {
				target = filepath.Join(filepath.Dir(path), file)
			}
			checked++
			if _, err := os.Stat(target); !assert.NoError(t, err, "%s: link %s", path, link) {
				continue
			}
			if anchor != "" && strings.HasSuffix(target, ".md") {
				assert.True(t, anchors(t, target)[anchor], "%s: link %s: no heading makes the anchor #%s", path, link, anchor)
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, checked, 50, "the links were found")
	t.Logf("%d relative links checked", checked)
}
