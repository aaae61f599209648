//go:build catalogs

package catalog

// The built-in catalogs are imported from the provider's activity-tracking
// docs pages, which the repository does not hold, so plain go generate leaves
// them alone: `make catalogs` runs these lines (go generate -tags catalogs
// ./catalog) with AUDIT_CATALOG_PAGES set to the pages' folder (PAGES, by
// default ../shared/seeds beside the repository). TestBuiltinsAreImported in
// cmd/auditcatalog runs them too and compares the result with builtin/.

//go:generate go run ../cmd/auditcatalog import -display-name "Backup and Recovery" -o builtin/backup-recovery.yaml $AUDIT_CATALOG_PAGES/backup-recovery-at-events.md
//go:generate go run ../cmd/auditcatalog import -display-name "Speech to Text" -o builtin/speech-to-text.yaml $AUDIT_CATALOG_PAGES/speech-to-text-at-events.md
