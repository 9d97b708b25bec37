package query

import (
	"fmt"
	"testing"
)

func TestParseDropTable(t *testing.T) {
	dbs := map[string]bool{"lake": true, "raw": true}
	for q, want := range map[string]string{
		`DROP TABLE lake.t`:                       `&{false lake t}`,
		` drop table IF EXISTS "Lake"."Events" ;`: `&{true lake events}`,
		"DROP TABLE raw.orders;\n":                `&{false raw orders}`,
		`DROP TABLE lake.t CASCADE`:               `<nil>`, // refused by refuseCatalogDDL
		`DROP TABLE t`:                            `<nil>`, // the query's own table
		`DROP TABLE mine.t`:                       `<nil>`,
		`DROP TABLE lake.t; SELECT 1`:             `<nil>`,
		`DROP VIEW lake.t`:                        `<nil>`,
		`DROP TABLE IF lake.t`:                    `<nil>`,
		`SELECT 'DROP TABLE lake.t'`:              `<nil>`,
		`DROP TABLE IF EXISTS`:                    `<nil>`,
	} {
		if got := fmt.Sprint(parseDropTable(q, dbs)); got != want {
			t.Errorf("%q: %s, want %s", q, got, want)
		}
	}
}
