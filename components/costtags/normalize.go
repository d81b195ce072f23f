package costtags

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of each target, from the providers' documentation.
const (
	awsMaxTags     = 50
	awsMaxKey      = 128
	awsMaxValue    = 256
	gcpMaxLabels   = 64
	gcpMaxKey      = 63
	gcpMaxValue    = 63
	azureMaxTags   = 50
	azureMaxKey    = 512
	azureMaxValue  = 256
	kubeMaxName    = 63
	kubeMaxPrefix  = 253
	kubeMaxValue   = 63
	awsReservedKey = "aws:"
)

// target is one cloud's rules for tag keys and values.
type target struct {
	name    string // "AWS"
	noun    string // "tag" or "label"
	maxTags int    // 0 means no limit
	// foldKeys says keys differing only in case are the same key (Azure).
	foldKeys bool
	key      func(string) (string, error)
	value    func(string) (string, error)
}

var (
	awsTarget = target{name: "AWS", noun: "tag", maxTags: awsMaxTags, key: awsKey, value: awsValue}
	gcpTarget = target{name: "GCP", noun: "label", maxTags: gcpMaxLabels, key: gcpKey, value: gcpValue}
	// Azure tag names are case-insensitive: "Team" and "team" are one tag.
	azureTarget = target{name: "Azure", noun: "tag", maxTags: azureMaxTags, foldKeys: true, key: azureKey, value: azureValue}
	kubeTarget  = target{name: "Kubernetes", noun: "label", key: kubeKey, value: kubeValue}
)

// ForAWS returns t as AWS resource tags.
//
// Keys and values keep letters, digits, spaces and "+-=._:/@"; every run of other
// characters becomes one "_". A key over 128 characters, a value over 256, a key with
// the reserved "aws:" prefix, more than 50 tags, or two keys that become the same one
// is an error naming the key.
func ForAWS(t Tags) (map[string]string, error) { return awsTarget.normalize(t) }

// ForGCP returns t as GCP resource labels.
//
// Keys and values are lowercased and every run of characters outside [a-z0-9_-]
// becomes one "_"; a key loses any leading "_". A key that then does not start with a
// lowercase letter, a key over 63 characters or a value over 63, more than 64 labels,
// or two keys that become the same one ("Team" and "team") is an error naming the key.
func ForGCP(t Tags) (map[string]string, error) { return gcpTarget.normalize(t) }

// ForAzure returns t as Azure resource tags.
//
// Every run of the characters Azure forbids in a tag name (< > % & \ ? /) becomes one
// "_". A name over 512 characters or a value over 256, more than 50 tags, or two names
// that become the same one is an error naming the key. Azure compares tag names
// without regard to case, so "Team" and "team" collide too.
func ForAzure(t Tags) (map[string]string, error) { return azureTarget.normalize(t) }

// ForKubernetes returns t as Kubernetes label keys and values.
//
// A key is an optional DNS-subdomain prefix and a name ("example.com/team"). The
// prefix is lowercased and must then be a valid DNS subdomain of at most 253
// characters. In the name and the value every run of characters outside
// [A-Za-z0-9._-] becomes one "_" and "_" is trimmed from both ends; the result must
// start and end with a letter or digit and be at most 63 characters (a value may be
// empty). Anything else is an error naming the key.
func ForKubernetes(t Tags) (map[string]string, error) { return kubeTarget.normalize(t) }

// normalize applies the target's rules to every tag and reports every problem at once.
func (tg target) normalize(t Tags) (map[string]string, error) {
	var errs []error
	if tg.maxTags > 0 && len(t) > tg.maxTags {
		errs = append(errs, fmt.Errorf("%s allows at most %d %ss and there are %d; drop %d of them",
			tg.name, tg.maxTags, tg.noun, len(t), len(t)-tg.maxTags))
	}
	out := make(map[string]string, len(t))
	seen := make(map[string]string, len(t)) // normalised key (folded for Azure) -> original key
	for _, k := range sortedKeys(t) {
		nk, kerr := tg.key(k)
		nv, verr := tg.value(t[k])
		if kerr != nil {
			errs = append(errs, fmt.Errorf("%s %s %q: %w", tg.name, tg.noun, k, kerr))
		}
		if verr != nil {
			errs = append(errs, fmt.Errorf("%s %s %q: value %q: %w", tg.name, tg.noun, k, t[k], verr))
		}
		if kerr != nil || verr != nil {
			continue
		}
		id := nk
		if tg.foldKeys {
			id = strings.ToLower(nk)
		}
		if prev, ok := seen[id]; ok {
			errs = append(errs, fmt.Errorf("%s %ss %q and %q both become %q; rename or remove one of them",
				tg.name, tg.noun, prev, k, nk))
			continue
		}
		seen[id] = k
		out[nk] = nv
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func awsKey(k string) (string, error) {
	s := replaceRuns(k, awsAllowed)
	if s == "" {
		return "", errEmptyKey
	}
	if n := utf8.RuneCountInString(s); n > awsMaxKey {
		return "", tooLong("key", n, awsMaxKey)
	}
	if len(s) >= len(awsReservedKey) && strings.EqualFold(s[:len(awsReservedKey)], awsReservedKey) {
		return "", fmt.Errorf("the %q prefix is reserved for AWS's own tags; rename the tag", awsReservedKey)
	}
	return s, nil
}

func awsValue(v string) (string, error) {
	s := replaceRuns(v, awsAllowed)
	if n := utf8.RuneCountInString(s); n > awsMaxValue {
		return "", tooLong("value", n, awsMaxValue)
	}
	return s, nil
}

func awsAllowed(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || strings.ContainsRune(" +-=._:/@", r)
}

func gcpKey(k string) (string, error) {
	s := strings.TrimLeft(replaceRuns(strings.ToLower(k), gcpAllowed), "_")
	if s == "" {
		return "", errEmptyKey
	}
	if c := s[0]; c < 'a' || c > 'z' {
		return "", fmt.Errorf("key %q must start with a lowercase letter; rename the tag", s)
	}
	if len(s) > gcpMaxKey {
		return "", tooLong("key", len(s), gcpMaxKey)
	}
	return s, nil
}

func gcpValue(v string) (string, error) {
	s := replaceRuns(strings.ToLower(v), gcpAllowed)
	if len(s) > gcpMaxValue {
		return "", tooLong("value", len(s), gcpMaxValue)
	}
	return s, nil
}

func gcpAllowed(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

func azureKey(k string) (string, error) {
	s := replaceRuns(k, azureNameAllowed)
	if s == "" {
		return "", errEmptyKey
	}
	if n := utf8.RuneCountInString(s); n > azureMaxKey {
		return "", tooLong("name", n, azureMaxKey)
	}
	return s, nil
}

func azureValue(v string) (string, error) {
	s := replaceRuns(v, anyRune)
	if n := utf8.RuneCountInString(s); n > azureMaxValue {
		return "", tooLong("value", n, azureMaxValue)
	}
	return s, nil
}

func azureNameAllowed(r rune) bool { return !strings.ContainsRune(`<>%&\?/`, r) }

// anyRune allows every character, so replaceRuns only repairs bytes that are not UTF-8.
func anyRune(rune) bool { return true }

func kubeKey(k string) (string, error) {
	prefix, name, hasPrefix := strings.Cut(k, "/")
	if !hasPrefix {
		name = k
	}
	n, err := kubeName("name", name, kubeMaxName)
	if err != nil {
		return "", err
	}
	if n == "" {
		return "", errEmptyKey
	}
	if !hasPrefix {
		return n, nil
	}
	p := strings.ToLower(prefix)
	if !isDNSSubdomain(p) {
		return "", fmt.Errorf("prefix %q must be a DNS subdomain of at most %d characters such as \"example.com\"; fix or drop the prefix", p, kubeMaxPrefix)
	}
	return p + "/" + n, nil
}

func kubeValue(v string) (string, error) { return kubeName("value", v, kubeMaxValue) }

// kubeName normalises a label name or value: [A-Za-z0-9._-], trimmed of "_",
// alphanumeric at both ends, at most limit characters. An empty result is left to the
// caller: values may be empty, names may not.
func kubeName(what, s string, limit int) (string, error) {
	s = strings.Trim(replaceRuns(s, kubeAllowed), "_")
	if s == "" {
		return "", nil
	}
	if len(s) > limit {
		return "", tooLong(what, len(s), limit)
	}
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return "", fmt.Errorf("the %s %q must start and end with a letter or digit; change it", what, s)
	}
	return s, nil
}

func kubeAllowed(r rune) bool {
	return r < utf8.RuneSelf && isAlnum(byte(r)) || r == '.' || r == '_' || r == '-'
}

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// isDNSSubdomain reports whether s is a DNS-1123 subdomain: dot-separated labels of
// [a-z0-9-] that start and end alphanumeric, at most 253 characters in all.
func isDNSSubdomain(s string) bool {
	if s == "" || len(s) > kubeMaxPrefix {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; c != '-' && !isLowerAlnum(c) {
				return false
			}
		}
	}
	return true
}

// replaceRuns replaces every run of characters that allowed rejects, and every run of
// bytes that are not UTF-8, with one "_".
func replaceRuns(s string, allowed func(rune) bool) string {
	if clean(s, allowed) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inRun := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		ok := (r != utf8.RuneError || size != 1) && allowed(r)
		switch {
		case ok:
			b.WriteString(s[i : i+size])
			inRun = false
		case !inRun:
			b.WriteByte('_')
			inRun = true
		}
		i += size
	}
	return b.String()
}

// clean reports whether replaceRuns would leave s as it is; most tags are, and this
// spares them an allocation.
func clean(s string, allowed func(rune) bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !allowed(r) {
			return false
		}
		i += size
	}
	return true
}

var errEmptyKey = errors.New("the key is empty once normalised; give the tag a name with letters or digits")

func tooLong(what string, n, limit int) error {
	return fmt.Errorf("the %s is %d characters once normalised and at most %d are allowed; shorten it", what, n, limit)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
