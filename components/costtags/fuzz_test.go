package costtags_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flotilla-io/flotilla/components/costtags"
)

// The validators below restate each target's rules from its documentation, apart from
// the normalisers, so that the fuzzers check one against the other.

var (
	awsText     = regexp.MustCompile(`^[\p{L}\p{N} +\-=._:/@]*$`)
	awsReserved = regexp.MustCompile(`(?i)^aws:`)
	gcpKey      = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	gcpValue    = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
	azureBad    = regexp.MustCompile(`[<>%&\\?/]`)
)

func validAWS(tags map[string]string) error {
	if len(tags) > 50 {
		return fmt.Errorf("%d tags", len(tags))
	}
	for k, v := range tags {
		switch {
		case k == "" || utf8.RuneCountInString(k) > 128 || !awsText.MatchString(k):
			return fmt.Errorf("key %q", k)
		case awsReserved.MatchString(k):
			return fmt.Errorf("reserved key %q", k)
		case utf8.RuneCountInString(v) > 256 || !awsText.MatchString(v):
			return fmt.Errorf("value %q", v)
		}
	}
	return nil
}

func validGCP(tags map[string]string) error {
	if len(tags) > 64 {
		return fmt.Errorf("%d labels", len(tags))
	}
	for k, v := range tags {
		if !gcpKey.MatchString(k) || !gcpValue.MatchString(v) {
			return fmt.Errorf("label %q=%q", k, v)
		}
	}
	return nil
}

func validAzure(tags map[string]string) error {
	if len(tags) > 50 {
		return fmt.Errorf("%d tags", len(tags))
	}
	seen := map[string]bool{}
	for k, v := range tags {
		if k == "" || !utf8.ValidString(k) || utf8.RuneCountInString(k) > 512 || azureBad.MatchString(k) {
			return fmt.Errorf("name %q", k)
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 256 {
			return fmt.Errorf("value %q", v)
		}
		if seen[strings.ToLower(k)] {
			return fmt.Errorf("name %q twice", k)
		}
		seen[strings.ToLower(k)] = true
	}
	return nil
}

// validKubernetes uses the API server's own validation.
func validKubernetes(tags map[string]string) error {
	for k, v := range tags {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return fmt.Errorf("value %q: %s", v, strings.Join(errs, "; "))
		}
	}
	return nil
}

// seeds are tags that exercise every rule: case, symbols, Unicode, broken UTF-8,
// prefixes, reserved keys and lengths around every limit.
var seeds = []struct {
	k1, v1, k2, v2 string
	extra          uint8
}{
	{"env", "prod", "team", "payments", 0},
	{"Cost Center", "CC/1234", "Team", "Payments Team!!", 0},
	{"team", "a", "Team", "b", 0},
	{"aws:owner", "x", "AWS:Team", "y", 0},
	{"example.com/Team", "Pay.ments", "Example.COM/x", "", 0},
	{"a/b/c", "-v-", "/x", "_y_", 0},
	{"ünï cödé", "wért 42", "日本", "値", 0},
	{"k\xff\xfe", "v\xc3", "\x80", "\xed\xa0\x80", 0},
	{"<a>%&\\?/", "<b>", "  spaced  ", "  ", 0},
	{strings.Repeat("k", 63), strings.Repeat("v", 63), strings.Repeat("K", 64), strings.Repeat("V", 64), 0},
	{strings.Repeat("k", 128), strings.Repeat("v", 256), strings.Repeat("k", 129), strings.Repeat("v", 257), 0},
	{strings.Repeat("p", 253) + "/n", "v", strings.Repeat("k", 512), strings.Repeat("v", 256), 0},
	{"1team", "x", "_team", "x", 0},
	{"k", "v", "x", "y", 47},
	{"k", "v", "x", "y", 48},
	{"k", "v", "x", "y", 62},
	{"k", "v", "x", "y", 63},
	{"K", "İ", "\u212a", "ß", 0},
	{"", "", "_", "_", 0},
}

// fuzzNormalize checks the properties every ForX must have on tags built from the
// fuzzer's input: extra adds that many more keys, to reach the count limits.
func fuzzNormalize(f *testing.F, fn func(costtags.Tags) (map[string]string, error), valid func(map[string]string) error) {
	for _, s := range seeds {
		f.Add(s.k1, s.v1, s.k2, s.v2, s.extra)
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, extra uint8) {
		in := costtags.Tags{k1: v1, k2: v2}
		for i := range int(extra) % 80 {
			in[fmt.Sprintf("%s%d", k2, i)] = v2
		}
		in2 := costtags.Tags{}
		for k, v := range in {
			in2[k] = v
		}

		out, err := fn(in)
		assert.Equal(t, in2, in, "the input is not modified")
		out2, err2 := fn(in)
		assert.Equal(t, out, out2, "deterministic")
		assert.Equal(t, fmt.Sprint(err), fmt.Sprint(err2), "deterministic")

		if err != nil {
			assert.Nil(t, out)
			msg := err.Error()
			named := strings.Contains(msg, "at most")
			for k := range in {
				named = named || strings.Contains(msg, fmt.Sprintf("%q", k))
			}
			assert.True(t, named, "the error names a key or a limit: %v", err)
			if valid(map[string]string(in)) == nil {
				t.Fatalf("valid tags %q were rejected: %v", in, err)
			}
			return
		}
		require.NoError(t, valid(out), "output of %q", in)
		assert.LessOrEqual(t, len(out), len(in))
		again, err := fn(out)
		require.NoError(t, err, "normalising the output %q again", out)
		assert.Equal(t, out, again, "idempotent")
		if valid(map[string]string(in)) == nil {
			assert.Equal(t, map[string]string(in), out, "valid tags are left as they are")
		}
	})
}

func FuzzForAWS(f *testing.F)        { fuzzNormalize(f, costtags.ForAWS, validAWS) }
func FuzzForGCP(f *testing.F)        { fuzzNormalize(f, costtags.ForGCP, validGCP) }
func FuzzForAzure(f *testing.F)      { fuzzNormalize(f, costtags.ForAzure, validAzure) }
func FuzzForKubernetes(f *testing.F) { fuzzNormalize(f, costtags.ForKubernetes, validKubernetes) }
