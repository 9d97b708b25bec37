package query

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseMaintain(t *testing.T) {
	dbs := map[string]bool{"lake": true}
	for q, want := range map[string]string{
		`OPTIMIZE lake.t REWRITE DATA USING BIN_PACK`:    `&{true lake t}`,
		`optimize "Lake".T rewrite data using bin_pack;`: `&{true lake t}`,
		`VACUUM lake.t`:           `&{false lake t}`,
		`VACUUM t`:                `<nil>`, // DuckDB's own
		`VACUUM ANALYZE lake.t`:   `<nil>`, // refused by refuseCatalogDDL
		`VACUUM mine.t`:           `<nil>`,
		`VACUUM lake.t; SELECT 1`: `<nil>`,
		`SELECT 'OPTIMIZE lake.t REWRITE DATA USING BIN_PACK'`: `<nil>`,
	} {
		m, err := parseMaintain(q, dbs)
		if got := fmt.Sprint(m); err != nil || got != want {
			t.Errorf("%q: %s, %v; want %s", q, got, err, want)
		}
	}
	for _, q := range []string{
		`OPTIMIZE lake.t`,
		`OPTIMIZE lake.t REWRITE DATA USING SORT`,
		`OPTIMIZE lake.t REWRITE DATA USING BIN_PACK WHERE day = DATE '2026-11-20'`,
		`VACUUM lake.t RETAIN 7 DAYS`,
	} {
		if _, err := parseMaintain(q, dbs); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want an error wrapping ErrUnsupported", q, err)
		}
	}
}
