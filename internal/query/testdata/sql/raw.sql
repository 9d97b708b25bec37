-- name: the raw staging table holds every record, good or bad
SELECT count(*) AS n, count(value_text) AS not_json FROM raw.sensors;
-- expect:
n,not_json
25,1

-- name: raw envelopes keep keys, offsets and partitions
SELECT p, min("offset") AS first, max("offset") AS last, count(DISTINCT key) AS keys FROM raw.sensors GROUP BY p ORDER BY p;
-- expect:
p,first,last,keys
0,0,19,3
1,0,4,3

-- name: raw values are typed structs
SELECT value.id AS id, value.device AS device FROM raw.sensors WHERE p = 0 ORDER BY "offset" LIMIT 2;
-- expect:
id,device
0,d0
1,d1

-- name: join the lake with the raw records it came from
SELECT count(*) AS matched FROM lake.sensors l JOIN raw.sensors r ON r.value.id = l.id AND r.p = 0;
-- expect:
matched
20

