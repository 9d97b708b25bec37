-- name: every good record is in the lake once
SELECT count(*) AS n, count(DISTINCT id) AS ids FROM lake.sensors;
-- expect:
n,ids
20,20

-- name: the evolved schema: old rows read NULL in the new columns
SELECT id < 10 AS first_phase, count(*) AS n, count(site) AS with_site, count(loc) AS with_loc FROM lake.sensors GROUP BY ALL ORDER BY ALL;
-- expect:
first_phase,n,with_site,with_loc
false,10,10,10
true,10,0,0

-- name: integers and fractions share one double column
SELECT typeof(temperature) AS t, min(temperature) AS lo, max(temperature) AS hi FROM lake.sensors GROUP BY ALL;
-- expect:
t,lo,hi
DOUBLE,10.5,29

-- name: struct fields
SELECT id, loc.lat AS lat, loc.lon AS lon FROM lake.sensors WHERE loc IS NOT NULL ORDER BY id LIMIT 3;
-- expect:
id,lat,lon
10,10.25,-10.5
11,11.25,-11.5
12,12.25,-12.5

-- name: event time is a timestamp, partitioned by day
SELECT ts::DATE AS day, count(*) AS n FROM lake.sensors GROUP BY ALL ORDER BY ALL;
-- expect:
day,n
2026-11-20,7
2026-11-21,7
2026-11-22,6

-- name: count(*) of whole day partitions, from the manifests' record counts
SELECT count(*) FROM lake.sensors WHERE ts >= TIMESTAMPTZ '2026-11-21 00:00:00+00' AND ts < '2026-11-23';
-- expect:
_col0
13

-- name: count(*) with a bound inside a day, counted by DuckDB
SELECT count(*) AS n FROM lake.sensors WHERE ts >= '2026-11-21 00:00:01' AND ts < '2026-11-23';
-- expect:
n
13

-- name: window function over the evolved table
SELECT device, id, sum(temperature) OVER (PARTITION BY device ORDER BY id) AS running FROM lake.sensors WHERE device IN ('d0', 'd1') ORDER BY device, id LIMIT 6;
-- expect:
device,id,running
d0,0,10.5
d0,4,25
d0,8,43.5
d0,12,65.5
d0,16,91.5
d1,1,11.5

-- name: top-N with a group-by
SELECT device, count(*) AS n, round(avg(temperature), 2) AS avg_t FROM lake.sensors GROUP BY device ORDER BY n DESC, device LIMIT 2;
-- expect:
device,n,avg_t
d0,5,18.3
d1,5,19.3

-- name: dead letters with their reasons
SELECT error_stage, error, count(*) AS n FROM lake.sensors_dlq GROUP BY ALL ORDER BY ALL;
-- expect:
error_stage,error,n
convert,"field $.temperature: ""n/a"" does not fit column type double",4
decode,value is not valid JSON,1

-- name: dead-letter keys and offsets
SELECT "partition", "offset", key FROM lake.sensors_dlq ORDER BY "offset";
-- expect:
partition,offset,key
1,0,k0
1,1,k1
1,2,k2
1,3,k0
1,4,k1

-- name: prepared statement with positional parameters
-- params: [20, "d1"]
SELECT count(*) AS n FROM lake.sensors WHERE temperature > ? AND device = ?;
-- expect:
n
2

-- name: a missing table is a user error
SELECT * FROM lake.nope;
-- error: USER: query: table lake.nope not found

