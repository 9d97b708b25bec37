package query

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseAlter(t *testing.T) {
	dbs := map[string]bool{"lake": true}
	for q, want := range map[string]string{
		`ALTER TABLE lake.t ADD COLUMNS (a string, b struct<x:int, y:map<string,array<bigint>>> COMMENT 'nested', c decimal(10, 2))`: `add [{a string } {b struct<x:int, y:map<string,array<bigint>>> nested} {c decimal(10, 2) }]`,
		`ALTER TABLE lake.t ADD COLUMN a int COMMENT 'c'`:                     `add [{a int c}]`,
		`alter table "Lake"."T" drop column loc.city;`:                        `drop [loc city]`,
		`ALTER TABLE lake.t CHANGE COLUMN n amount bigint COMMENT 'how many'`: `change &{[n] amount bigint how many true true}`,
		`ALTER TABLE lake.t CHANGE n N int`:                                   `change &{[n] N int  false false}`,
		`ALTER TABLE lake.t RENAME COLUMN loc.city TO town`:                   `change &{[loc city] town   false true}`,
		`ALTER TABLE lake.t SET TBLPROPERTIES ('a' = '1', 'b' = '2')`:         `props map[a:1 b:2]`,
		`ALTER TABLE mine.t DROP COLUMN a`:                                    `<nil>`,
		`ALTER TABLE lake.t DROP COLUMN a; SELECT 1`:                          `<nil>`,
		`SELECT 'ALTER TABLE lake.t DROP COLUMN a'`:                           `<nil>`,
	} {
		a, err := parseAlter(q, dbs)
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		got := "<nil>"
		switch {
		case a == nil:
		case a.add != nil:
			var adds []string
			for _, c := range a.add {
				adds = append(adds, fmt.Sprintf("{%s %s %s}", c.newName, c.typ, c.comment))
			}
			got = "add [" + strings.Join(adds, " ") + "]"
		case a.drop != nil:
			got = fmt.Sprint("drop ", a.drop)
		case a.change != nil:
			got = fmt.Sprint("change ", a.change)
		case a.props != nil:
			got = fmt.Sprint("props ", a.props)
		}
		if got != want {
			t.Errorf("%q:\n got  %s\n want %s", q, got, want)
		}
	}
	for _, q := range []string{
		`ALTER TABLE lake.t ADD COLUMNS a string`,
		`ALTER TABLE lake.t ADD COLUMNS (a)`,
		`ALTER TABLE lake.t ADD COLUMNS (a string,)`,
		`ALTER TABLE lake.t ADD COLUMNS (a struct<x:int)`,
		`ALTER TABLE lake.t DROP COLUMN a b`,
		`ALTER TABLE lake.t CHANGE a`,
		`ALTER TABLE lake.t RENAME COLUMN a b`,
		`ALTER TABLE lake.t RENAME TO lake.u`,
		`ALTER TABLE lake.t SET TBLPROPERTIES (a = 1)`,
		`ALTER TABLE lake.t ALTER COLUMN a SET DATA TYPE bigint`,
	} {
		if _, err := parseAlter(q, dbs); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want an error wrapping ErrUnsupported", q, err)
		}
	}
}
