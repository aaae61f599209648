package catalog

import "strings"

// ZoneRegion returns the region a zone id belongs to: a zone is its
// region's id followed by a dash and a number ("eu-de-2" is in "eu-de").
// ok is false when id does not end in a dash and digits. Whether the
// region is one a catalog lists is the caller's question.
func ZoneRegion(id string) (region string, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || !allDigits(id[i+1:]) {
		return "", false
	}
	return id[:i], true
}
