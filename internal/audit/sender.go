package audit

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.uber.org/zap"
)

// Senders: services.NAME.senders binds a service's audit trail to the
// senders allowed to write it. The rules, stated in the README ("Senders"):
//
//   - A batch's sender is the identity a receiver's server authenticator
//     put in its client.Info.Auth, under sender.auth_attribute; it is read
//     once per batch (SenderOf), never from the records, which the sender
//     writes.
//   - A record matched to an event of a service that lists senders is
//     authorized when its batch's sender matches one of them; a batch with
//     no identity is authorized for no such service.
//   - An unauthorized record is not tagged and gives no event; it is
//     counted (records_unauthorized), and dropped only with
//     sender.on_unauthorized: drop.
//   - A service that lists no senders takes records from any sender, or
//     none, as before.
//   - Every tagged record and every event names its sender (audit.sender,
//     the event's reporter.id) when the batch has one.

// AttrSender names the batch's authenticated sender on a tagged record.
const AttrSender = "audit.sender"

// Sender is the authenticated sender of one batch and the services with
// senders that it may speak for. Its zero value is a batch without an
// identity.
type Sender struct {
	// ID is the sender's identity; "" when the batch has none.
	ID string
	// allowed tells, by service.guard, whether ID matches the service's
	// senders; nil when the batch has no identity or no service lists
	// senders.
	allowed []bool
}

// SenderOf reads the sender of a batch from its context: the
// sender.auth_attribute of client.Info.Auth, when it is a non-empty
// string. The services' senders are matched here, once per batch.
func (a *Auditor) SenderOf(ctx context.Context) Sender {
	auth := client.FromContext(ctx).Auth
	if auth == nil {
		return Sender{}
	}
	id, _ := auth.GetAttribute(a.senderAttr).(string)
	if id == "" {
		return Sender{}
	}
	s := Sender{ID: id}
	if len(a.guarded) > 0 {
		s.allowed = make([]bool, len(a.guarded))
		for i, svc := range a.guarded {
			s.allowed[i] = matchAny(svc.senders, id)
		}
	}
	return s
}

// may tells whether the sender may speak for svc: always when svc lists
// no senders, else when the sender matched one of them.
func (s *Sender) may(svc *service) bool {
	return svc.senders == nil || s.allowed != nil && s.allowed[svc.guard]
}

// guard lists the services with senders, each at its index (service.guard).
func (a *Auditor) guard(svc *service, senders []string) {
	svc.senders, svc.guard = senders, len(a.guarded)
	a.guarded = append(a.guarded, svc)
}

// authorize records the sender on a matched record's decision and tells
// whether the sender may speak for the event's service; when it may not,
// the decision is marked unauthorized (and dropped with
// sender.on_unauthorized: drop).
func (a *Auditor) authorize(d *Decision, svc *service, s *Sender) bool {
	d.Sender = s.ID
	if s.may(svc) {
		return true
	}
	d.Unauthorized = true
	if a.onUnauthorized == PolicyDrop {
		d.Drop = DropUnauthorized
	}
	return false
}

// WarnUnauthenticated logs a warning at start when some service lists
// senders and the collector runs no server authenticator: the components
// cannot see which receivers feed their pipeline, but without any
// authenticator no batch has a sender, and every record of those services
// would be unauthorized. It warns once for all the components that share
// this Live (a processor and connector instances configured alike).
func (l *Live) WarnUnauthenticated(host component.Host) {
	l.warned.Do(func() { warnUnauthenticated(&l.cfg, host, l.logger) })
}

func warnUnauthenticated(cfg *Config, host component.Host, logger *zap.Logger) {
	var guarded []string
	for _, name := range sortedKeys(cfg.Services) {
		if cfg.Services[name].Senders != nil {
			guarded = append(guarded, name)
		}
	}
	if len(guarded) == 0 {
		return
	}
	for _, ext := range host.GetExtensions() {
		if _, ok := ext.(extensionauth.Server); ok {
			return
		}
	}
	logger.Warn("services list senders, but no server authenticator extension runs: no batch will have a sender, and none of these services' records will be audited; configure one (mtlsauth, oidc, basicauth) on the receivers",
		zap.Strings("services", guarded))
}

// UnauthorizedLog logs the records a service's senders refused, at most
// once per interval per component (never per record): the first batch's
// sender and how many records were refused since the last message.
type UnauthorizedLog struct {
	logger   *zap.Logger
	interval time.Duration
	now      func() time.Time
	pending  atomic.Int64
	last     atomic.Int64 // unix nanoseconds of the last message; 0 none
}

// NewUnauthorizedLog logs to logger at most once a minute.
func NewUnauthorizedLog(logger *zap.Logger) *UnauthorizedLog {
	return &UnauthorizedLog{logger: logger, interval: time.Minute, now: time.Now}
}

// Note adds one batch's unauthorized records, sent by sender ("" none).
func (l *UnauthorizedLog) Note(n int64, sender string) {
	if n == 0 {
		return
	}
	total := l.pending.Add(n)
	now := l.now().UnixNano()
	last := l.last.Load()
	if last != 0 && now-last < int64(l.interval) || !l.last.CompareAndSwap(last, now) {
		return
	}
	l.pending.Add(-total)
	l.logger.Warn("records matched to services whose senders do not include their batch's sender were not audited (records_unauthorized counts them)",
		zap.Int64("records", total), zap.String("sender", sender), zap.Duration("next_message_after", l.interval))
}
