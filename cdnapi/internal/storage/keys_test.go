package storage

import (
	"strings"
	"testing"
)

const (
	testID      = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	testVariant = "0b5e8d1f6a2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"
)

func TestKeysFollowTheBucketLayout(t *testing.T) {
	cases := map[string]string{
		OriginalKey("ab"):              "originals/ab",
		ThumbKey("ab"):                 "thumbs/ab.webp",
		VariantKey("ab", "cd"):         "variants/ab/cd",
		VariantsPrefix("ab"):           "variants/ab/",
		VariantKey(testID, testID[1:]): "variants/" + testID + "/" + testID[1:],
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("key = %q, want %q", got, want)
		}
	}
}

func TestValidID(t *testing.T) {
	cases := map[string]bool{
		testID:                       true,
		strings.Repeat("0", 64):      true,
		strings.ToUpper(testID):      false,
		testID[:63]:                  false,
		testID + "0":                 false,
		strings.Repeat("g", 64):      false,
		"":                           false,
		testID[:62] + "..":           false,
		testID[:63] + " ":            false,
		strings.Repeat("é", 32):      false,
		testID[:60] + "%2e%":         false,
		strings.Repeat("abcdef", 11): false,
	}
	for id, want := range cases {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestImageOfNamesTheOwnerOfWellFormedKeysOnly(t *testing.T) {
	owned := []string{OriginalKey(testID), ThumbKey(testID), VariantKey(testID, testVariant)}
	for _, key := range owned {
		if id, ok := ImageOf(key); !ok || id != testID {
			t.Errorf("ImageOf(%q) = %q, %v; want %q", key, id, ok, testID)
		}
	}
	for _, key := range []string{
		"", "originals/", "originals/" + testID[:63], "originals/" + strings.ToUpper(testID),
		"thumbs/" + testID, "thumbs/" + testID + ".png", "variants/" + testID, "variants/" + testID + "/",
		"variants/" + testID + "/" + testVariant + "/x", "variants/" + testID + "/../" + testVariant[3:],
		"other/" + testID, "../originals/" + testID, "originals/" + testID + "/x",
	} {
		if id, ok := ImageOf(key); ok {
			t.Errorf("ImageOf(%q) = %q, true; want false", key, id)
		}
	}
}
