package catalog

// The built-in catalogs are imported from the provider's activity-tracking
// docs pages, kept beside the repository in ../shared/seeds. The tests of
// cmd/auditcatalog run these lines and compare the result with builtin/.

//go:generate go run ../cmd/auditcatalog import -display-name "Backup and Recovery" -o builtin/backup-recovery.yaml ../../shared/seeds/backup-recovery-at-events.md
//go:generate go run ../cmd/auditcatalog import -display-name "Speech to Text" -o builtin/speech-to-text.yaml ../../shared/seeds/speech-to-text-at-events.md
