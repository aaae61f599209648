package audittest

import (
	"context"

	"go.opentelemetry.io/collector/client"
)

// Subject is what a server authenticator puts in client.Info.Auth to name
// a sender: the "subject" attribute (the mtlsauth extension's, and oidc's).
type Subject string

// GetAttribute returns the sender for "subject", nil otherwise.
func (s Subject) GetAttribute(name string) any {
	if name == "subject" {
		return string(s)
	}
	return nil
}

// GetAttributeNames names the one attribute.
func (Subject) GetAttributeNames() []string { return []string{"subject"} }

// SentBy is a batch's context as a receiver whose authenticator named the
// sender passes it on; "" for a receiver without one.
func SentBy(sender string) context.Context {
	if sender == "" {
		return context.Background()
	}
	return client.NewContext(context.Background(), client.Info{Auth: Subject(sender)})
}
