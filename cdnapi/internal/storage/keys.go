package storage

import "strings"

// Key prefixes and suffix of the bucket's layout: every object belongs to one image.
const (
	prefixOriginals = "originals/"
	prefixThumbs    = "thumbs/"
	prefixVariants  = "variants/"
	suffixThumb     = ".webp"
	// idLength is the length of an image or variant id: a lowercase hex SHA-256.
	idLength = 64
)

// OriginalKey is the object key of an image's original bytes.
func OriginalKey(id string) string { return prefixOriginals + id }

// ThumbKey is the object key of an image's WebP thumbnail.
func ThumbKey(id string) string { return prefixThumbs + id + suffixThumb }

// VariantKey is the object key of one rendered variant of an image.
func VariantKey(id, variantID string) string { return VariantsPrefix(id) + variantID }

// VariantsPrefix starts the keys of every variant of an image.
func VariantsPrefix(id string) string { return prefixVariants + id + "/" }

// ImageOf returns the image id that a well-formed object key belongs to (originals/{id},
// thumbs/{id}.webp or variants/{id}/{variant_id}, ids being 64 lowercase hex characters);
// false for any other string.
func ImageOf(key string) (string, bool) {
	switch {
	case strings.HasPrefix(key, prefixOriginals):
		id := key[len(prefixOriginals):]
		return id, ValidID(id)
	case strings.HasPrefix(key, prefixThumbs) && strings.HasSuffix(key, suffixThumb):
		id := key[len(prefixThumbs) : len(key)-len(suffixThumb)]
		return id, ValidID(id)
	case strings.HasPrefix(key, prefixVariants):
		id, variantID, ok := strings.Cut(key[len(prefixVariants):], "/")
		return id, ok && ValidID(id) && ValidID(variantID)
	}
	return "", false
}

// ValidID reports whether id is exactly 64 lowercase hex characters, as image and variant ids are.
func ValidID(id string) bool {
	if len(id) != idLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			return false
		}
	}
	return true
}
