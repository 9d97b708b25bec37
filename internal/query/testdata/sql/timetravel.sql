-- name: time travel to the first snapshot: its rows, with its schema (no site, no loc)
SELECT * FROM lake.sensors FOR VERSION AS OF {{snapshot lake.sensors 0}} ORDER BY id LIMIT 3;
-- expect:
id,ts,device,temperature
0,2026-11-20T10:00:00Z,d0,10.5
1,2026-11-21T10:00:00Z,d1,11.5
2,2026-11-22T10:00:00Z,d2,12.5

-- name: the first snapshot has only the first phase
SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM lake.sensors FOR VERSION AS OF {{snapshot lake.sensors 0}};
-- expect:
n,lo,hi
10,0,9

-- name: time travel by commit time (inclusive), Trino's spelling
SELECT count(*) AS n FROM lake.sensors FOR SYSTEM_TIME AS OF '{{snapshot_time lake.sensors 0}}';
-- expect:
n
10

-- name: the current snapshot by version equals the table
SELECT count(*) AS n, count(site) AS with_site FROM lake.sensors FOR SYSTEM_VERSION AS OF {{snapshot lake.sensors -1}};
-- expect:
n,with_site
20,10

-- name: a diff of two snapshots in one query
SELECT count(*) AS added, min(id) AS lo, max(id) AS hi FROM (SELECT id FROM lake.sensors EXCEPT SELECT id FROM lake.sensors FOR VERSION AS OF {{snapshot lake.sensors 0}});
-- expect:
added,lo,hi
10,10,19

-- name: an old snapshot joined with the current table, both aliased
SELECT cur.id, old.temperature AS old_t, cur.site FROM lake.sensors AS cur JOIN lake.sensors FOR VERSION AS OF {{snapshot lake.sensors 0}} AS old ON old.id = cur.id WHERE cur.id IN (0, 9) ORDER BY cur.id;
-- expect:
id,old_t,site
0,10.5,
9,19.5,

-- name: the clause inside a string is data
SELECT 'lake.sensors FOR VERSION AS OF 1' AS s;
-- expect:
s
lake.sensors FOR VERSION AS OF 1

-- name: the snapshots metadata table lists the ETL's commits
SELECT operation, summary['added-records'] AS added, summary['total-records'] AS total, parent_id IS NULL AS first FROM lake."sensors$snapshots" ORDER BY committed_at;
-- expect:
operation,added,total,first
append,10,10,true
append,10,20,false

-- name: the history of the current snapshot
SELECT count(*) AS n, bool_and(is_current_ancestor) AS linear FROM lake."sensors$history";
-- expect:
n,linear
2,true

-- name: a snapshot that does not exist is a user error naming the table and id
SELECT * FROM lake.sensors FOR VERSION AS OF 1;
-- error: USER: query: table lake.sensors has no snapshot 1 (FOR VERSION AS OF 1): no such snapshot

-- name: before the first snapshot
SELECT * FROM lake.sensors FOR TIMESTAMP AS OF '2000-01-01 00:00:00';
-- error: USER: query: table lake.sensors has no snapshot as of 2000-01-01T00:00:00Z

-- name: time travel on a crawled table is refused
SELECT * FROM raw.sensors FOR VERSION AS OF 1;
-- error: USER: query: table raw.sensors is an external (crawled) table: FOR VERSION AS OF 1 needs an Iceberg table

