package mtlsauthextension // import "github.com/otel-audit/auditprocessor/extension/mtlsauthextension"

import (
	"context"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otel-audit/auditprocessor/extension/mtlsauthextension/internal/metadata"
)

// NewFactory returns the factory of the mtlsauth extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func create(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
	return &mtlsAuth{from: slices.Clone(cfg.(*Config).IdentityFrom)}, nil
}
