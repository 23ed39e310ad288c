package restcat

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT30M": 30 * time.Minute, "PT24H": 24 * time.Hour, "P1D": 24 * time.Hour, "P1W": 7 * 24 * time.Hour,
		"PT1.5S": 1500 * time.Millisecond, "P1DT2H3M4S": 26*time.Hour + 3*time.Minute + 4*time.Second, "pt90s": 90 * time.Second,
	} {
		got, err := parseISODuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "P", "30M", "PT", "P1M", "P1Y", "PTM", "PT-1S", "PT1H2", "P1H", "PTT1S", "1800"} {
		_, err := parseISODuration(in)
		assert.Error(t, err, in)
	}
}
