package audit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// authData is a server authenticator's client.Info.Auth.
type authData map[string]any

func (a authData) GetAttribute(name string) any { return a[name] }

func (a authData) GetAttributeNames() []string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	return names
}

// withAuth is a batch's context as a receiver with a server authenticator
// passes it on.
func withAuth(auth authData) context.Context {
	return client.NewContext(context.Background(), client.Info{Auth: auth})
}

const widgets = `service: widgets
events:
  - {action: widgets.widget.create, method: POST, route: /v1/widgets, description: Create a widget}
`

// sendersAuditor loads gizmos (services.gizmos.senders: senders, unless
// nil) and widgets (no senders).
func sendersAuditor(t *testing.T, senders []string, onUnauthorized Policy) *Auditor {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.BuiltinCatalogs = nil
	cfg.CatalogFiles = []string{writeCatalog(t, "gizmos.yaml", gizmos), writeCatalog(t, "widgets.yaml", widgets)}
	if senders != nil {
		cfg.Services = map[string]ServiceConfig{"gizmos": {Senders: senders}}
	}
	cfg.Sender.OnUnauthorized = onUnauthorized
	require.NoError(t, cfg.Check())
	a, err := Load(&cfg)
	require.NoError(t, err)
	return a
}

// decideSent decides a POST to urlPath in a batch whose context is ctx,
// as the processor does: the sender read once, then the record.
func decideSent(a *Auditor, ctx context.Context, urlPath string) Decision {
	s := a.SenderOf(ctx)
	r := a.NewResource(pcommon.NewMap())
	r.Sender = s
	lr := plog.NewLogRecord()
	lr.Attributes().PutStr("http.request.method", "POST")
	lr.Attributes().PutStr("url.path", urlPath)
	v := LogView(lr)
	return a.Decide(&v, &r)
}

func TestSenders(t *testing.T) {
	spiffe := "spiffe://example.org/ns/gizmos/sa/api"
	for _, tc := range []struct {
		name    string
		senders []string
		policy  Policy
		ctx     context.Context
		path    string
		// want: whether the record emits, is unauthorized, its drop and
		// the sender its decision names.
		emits, unauthorized bool
		drop                Drop
		sender              string
	}{
		{"no senders: any sender", nil, PolicyKeep, withAuth(authData{"subject": "whoever"}), "/v1/gizmos", true, false, Keep, "whoever"},
		{"no senders: no identity", nil, PolicyKeep, context.Background(), "/v1/gizmos", true, false, Keep, ""},
		{"listed sender", []string{"gizmos-api"}, PolicyKeep, withAuth(authData{"subject": "gizmos-api"}), "/v1/gizmos", true, false, Keep, "gizmos-api"},
		{"glob of a SPIFFE ID", []string{"spiffe://example.org/ns/gizmos/*/*"}, PolicyKeep, withAuth(authData{"subject": spiffe}), "/v1/gizmos", true, false, Keep, spiffe},
		{"* does not cross /", []string{"spiffe://example.org/ns/*"}, PolicyKeep, withAuth(authData{"subject": spiffe}), "/v1/gizmos", false, true, Keep, spiffe},
		{"second glob", []string{"a", "gizmos-*"}, PolicyKeep, withAuth(authData{"subject": "gizmos-api"}), "/v1/gizmos", true, false, Keep, "gizmos-api"},
		{"another sender", []string{"gizmos-api"}, PolicyKeep, withAuth(authData{"subject": "widgets-api"}), "/v1/gizmos", false, true, Keep, "widgets-api"},
		{"another sender, drop", []string{"gizmos-api"}, PolicyDrop, withAuth(authData{"subject": "widgets-api"}), "/v1/gizmos", false, true, DropUnauthorized, "widgets-api"},
		{"no identity", []string{"*"}, PolicyKeep, context.Background(), "/v1/gizmos", false, true, Keep, ""},
		{"no identity, drop", []string{"*"}, PolicyDrop, context.Background(), "/v1/gizmos", false, true, DropUnauthorized, ""},
		{"identity under another attribute", []string{"*"}, PolicyKeep, withAuth(authData{"username": "gizmos-api"}), "/v1/gizmos", false, true, Keep, ""},
		{"identity not a string", []string{"*"}, PolicyKeep, withAuth(authData{"subject": []string{"gizmos-api"}}), "/v1/gizmos", false, true, Keep, ""},
		{"empty identity", []string{"*"}, PolicyKeep, withAuth(authData{"subject": ""}), "/v1/gizmos", false, true, Keep, ""},
		{"service without senders", []string{"gizmos-api"}, PolicyDrop, withAuth(authData{"subject": "someone"}), "/v1/widgets", true, false, Keep, "someone"},
		{"service without senders, no identity", []string{"gizmos-api"}, PolicyDrop, context.Background(), "/v1/widgets", true, false, Keep, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := sendersAuditor(t, tc.senders, tc.policy)
			d := decideSent(a, tc.ctx, tc.path)
			require.Equal(t, Matched, d.Result)
			assert.Equal(t, tc.emits, d.Emits())
			assert.Equal(t, tc.unauthorized, d.Unauthorized)
			assert.Equal(t, tc.drop, d.Drop)
			assert.Equal(t, tc.sender, d.Sender)
			var c Counts
			c.Add(&d)
			assert.Equal(t, Counts{Matched: int64(boolInt(!tc.unauthorized)), Unauthorized: int64(boolInt(tc.unauthorized)), Dropped: c.Dropped}, c)
			assert.Equal(t, int64(boolInt(tc.drop != Keep)), c.AllDropped())
		})
	}
}

// TestSenderTagged: a tagged record names its sender in audit.sender, and
// one without a sender carries no audit.sender.
func TestSenderTagged(t *testing.T) {
	a := sendersAuditor(t, nil, PolicyKeep)
	for _, tc := range []struct {
		ctx  context.Context
		want any
	}{{withAuth(authData{"subject": "gizmos-api"}), "gizmos-api"}, {context.Background(), nil}} {
		d := decideSent(a, tc.ctx, "/v1/gizmos")
		require.True(t, d.Emits())
		attrs := pcommon.NewMap()
		a.Tag(attrs, &d, attrs)
		got, ok := attrs.Get(AttrSender)
		if tc.want == nil {
			assert.False(t, ok)
			continue
		}
		require.True(t, ok)
		assert.Equal(t, tc.want, got.Str())
	}
	assert.True(t, Owned(AttrSender), "a forged audit.sender is stripped from incoming records")
}

// TestSenderAttribute: sender.auth_attribute names the attribute read.
func TestSenderAttribute(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Sender.AuthAttribute = "username"
	a, err := Load(&cfg)
	require.NoError(t, err)
	assert.Equal(t, "basic-user", a.SenderOf(withAuth(authData{"username": "basic-user", "subject": "other"})).ID)
	assert.Empty(t, a.SenderOf(withAuth(authData{"subject": "other"})).ID)
}

func TestSenderChecks(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Services = map[string]ServiceConfig{"gizmos": {Senders: []string{"ok", "[a-"}}} }, `services::gizmos::senders[1]: invalid pattern "[a-"`},
		{func(c *Config) { c.Services = map[string]ServiceConfig{"gizmos": {Senders: []string{" "}}} }, "services::gizmos::senders[0]: empty pattern"},
		{func(c *Config) { c.Services = map[string]ServiceConfig{"gizmos": {Senders: []string{}}} }, "services::gizmos::senders is empty: list at least one pattern"},
		{func(c *Config) { c.Sender.AuthAttribute = "" }, "sender::auth_attribute is empty"},
	} {
		cfg := NewDefaultConfig()
		tc.edit(&cfg)
		assert.ErrorContains(t, cfg.Check(), tc.want)
	}
	cfg := NewDefaultConfig()
	err := Unmarshal(confmap.NewFromStringMap(map[string]any{"sender": map[string]any{"on_unauthorized": "dorp"}}), &cfg)
	assert.EqualError(t, err, `sender::on_unauthorized: must be keep or drop, got "dorp"`)
	err = Unmarshal(confmap.NewFromStringMap(map[string]any{"sender": map[string]any{"auth_attribut": "x"}}), &cfg)
	assert.EqualError(t, err, `sender::auth_attribut: unknown key (did you mean auth_attribute?)`)
}

// extensionsHost is a host running the given extensions.
type extensionsHost map[component.ID]component.Component

func (h extensionsHost) GetExtensions() map[component.ID]component.Component { return h }

type serverAuth struct {
	component.StartFunc
	component.ShutdownFunc
	extensionauth.ServerAuthenticateFunc
}

// TestWarnUnauthenticated: services with senders and no server
// authenticator running warn once at start, naming the services; with an
// authenticator, or without senders, nothing is logged.
func TestWarnUnauthenticated(t *testing.T) {
	guarded := NewDefaultConfig()
	guarded.Services = map[string]ServiceConfig{"speech-to-text": {Senders: []string{"stt-*"}}, "backup-recovery": {}}
	none := extensionsHost{component.MustNewID("healthcheck"): struct {
		component.StartFunc
		component.ShutdownFunc
	}{}}
	auth := extensionsHost{component.MustNewID("mtlsauth"): serverAuth{}}
	for _, tc := range []struct {
		name string
		cfg  Config
		host component.Host
		want []string // the services named, nil: no warning
	}{
		{"senders, no authenticator", guarded, none, []string{"speech-to-text"}},
		{"senders, an authenticator", guarded, auth, nil},
		{"no senders", NewDefaultConfig(), none, nil},
	} {
		core, logs := observer.New(zap.WarnLevel)
		warnUnauthenticated(&tc.cfg, tc.host, zap.New(core))
		if tc.want == nil {
			assert.Zero(t, logs.Len(), tc.name)
			continue
		}
		require.Equal(t, 1, logs.Len(), tc.name)
		assert.Contains(t, logs.All()[0].Message, "no server authenticator", tc.name)
		assert.Equal(t, []any{tc.want[0]}, logs.All()[0].ContextMap()["services"], tc.name)
	}
}

// TestWarnUnauthenticatedOnce: the components that share one Live (a
// processor and connector instances configured alike) warn once between
// them, not once each.
func TestWarnUnauthenticatedOnce(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Services = map[string]ServiceConfig{"speech-to-text": {Senders: []string{"stt-*"}}}
	core, logs := observer.New(zap.WarnLevel)
	none := extensionsHost{}
	var lives []*Live
	for range 3 {
		l, err := Acquire(&cfg, zap.New(core))
		require.NoError(t, err)
		lives = append(lives, l)
		t.Cleanup(l.Release)
	}
	require.Same(t, lives[0], lives[2], "configured alike, one Live")
	for _, l := range lives {
		l.WarnUnauthenticated(none)
	}
	assert.Equal(t, 1, logs.Len())
}

// TestUnauthorizedLog: the first batch with unauthorized records is logged
// at once; later ones within the interval only add to the next message's
// count.
func TestUnauthorizedLog(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	l := NewUnauthorizedLog(zap.New(core))
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	l.Note(0, "quiet")
	assert.Zero(t, logs.Len())
	l.Note(2, "a")
	l.Note(3, "b")
	now = now.Add(59 * time.Second)
	l.Note(1, "c")
	require.Equal(t, 1, logs.Len())
	assert.Equal(t, int64(2), logs.All()[0].ContextMap()["records"])
	assert.Equal(t, "a", logs.All()[0].ContextMap()["sender"])
	now = now.Add(2 * time.Second)
	l.Note(1, "d")
	require.Equal(t, 2, logs.Len())
	assert.Equal(t, int64(5), logs.All()[1].ContextMap()["records"], "3 + 1 held back, and this batch's 1")
	assert.Equal(t, "d", logs.All()[1].ContextMap()["sender"])
}
