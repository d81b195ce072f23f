package cluster

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSubnet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		parent       string
		newBits, num int
		want         string
	}{
		{"10.0.0.0/16", 3, 0, "10.0.0.0/19"},
		{"10.0.0.0/16", 3, 7, "10.0.224.0/19"},
		{"10.0.224.0/19", 3, 2, "10.0.232.0/22"},
		{"100.64.0.0/16", 3, 1, "100.64.32.0/19"},
		{"10.224.0.0/16", 1, 0, "10.224.0.0/17"},
	}
	for _, tt := range tests {
		got := subnet(netip.MustParsePrefix(tt.parent), tt.newBits, tt.num)
		assert.Equal(t, tt.want, got.String(), "%s +%d #%d", tt.parent, tt.newBits, tt.num)
	}
	assert.Equal(t, "10.0.0.10", host(netip.MustParsePrefix("10.0.0.0/16"), 10).String())
}

func TestAutoscalerDuration(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "5m", autoscalerDuration(5*time.Minute))
	assert.Equal(t, "60m", autoscalerDuration(time.Hour))
	assert.Equal(t, "1m30s", autoscalerDuration(90*time.Second))
}

func TestMinorOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"1.31":            "1.31",
		"1.31.4-gke.1000": "1.31",
		"v1.30.2":         "1.30",
		"1.29-eks":        "1.29",
		"":                "",
	} {
		assert.Equal(t, want, MinorOf(in), in)
	}
}
