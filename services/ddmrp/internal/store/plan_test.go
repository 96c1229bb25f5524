package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueriesReadOpenLinesOnly checks that the evaluation of a position
// reads its open lines from the partial indexes alone: a plan that scans
// every line the position ever had (or the table) makes each event cost
// more as the tables grow.
func TestQueriesReadOpenLinesOnly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	for q, want := range map[query]string{
		qDemand:      "USING COVERING INDEX demand_open",
		qOpenDemand:  "USING COVERING INDEX demand_open",
		qPosition:    "USING COVERING INDEX demand_open",
		qOnOrder:     "USING COVERING INDEX supply_open",
		qDraftSupply: "USING COVERING INDEX supply_open",
	} {
		args := []any{"o", "p", "l"}
		if q == qPosition || q == qOpenDemand {
			args = append([]any{"2026-12-03"}, args...)
		}
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+queries[q], args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notUsed, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		text := strings.Join(plan, "; ")
		assert.Contains(t, text, want, queries[q])
		assert.NotContains(t, text, "TEMP B-TREE", "no sort: the index is in the query's order")
	}
}
