-- name: approx_distinct and approx_percentile
SELECT approx_distinct(device) AS devices, approx_distinct(device, 0.01) AS devices2, count(DISTINCT device) AS exact, approx_percentile(x, 0.5) AS median FROM lake.sensors, (SELECT 7 AS x);
-- expect:
devices,devices2,exact,median
4,4,4,7

-- name: from_unixtime and to_unixtime
SELECT from_unixtime(0) AS t0, from_unixtime(1700000000.5) AS t1, to_unixtime(TIMESTAMP '1970-01-02 00:00:01') AS u;
-- expect:
t0,t1,u
1970-01-01T00:00:00Z,2023-11-14T22:13:20.5Z,86401

-- name: ISO 8601 in and out
SELECT from_iso8601_timestamp('2026-01-02T03:04:05.678Z') AS ts, from_iso8601_date('2026-01-02') AS d, to_iso8601(TIMESTAMPTZ '2026-01-02 03:04:05.678+00') AS tz, to_iso8601(TIMESTAMP '2026-01-02 03:04:05') AS plain, to_iso8601(DATE '2026-01-02') AS day;
-- expect:
ts,d,tz,plain,day
2026-01-02T03:04:05.678Z,2026-01-02,2026-01-02T03:04:05.678Z,2026-01-02T03:04:05.000,2026-01-02

-- name: date_add with Athena's units, and DuckDB's date_add still works
SELECT date_add('millisecond', 1500, TIMESTAMP '2026-01-01 00:00:00') AS ms, date_add('hour', -1, TIMESTAMP '2026-01-01 00:00:00') AS h, date_add('day', 1, DATE '2026-01-31') AS d, date_add('week', 1, DATE '2026-01-01') AS w, date_add('month', 1, DATE '2026-01-31') AS m, date_add('quarter', 1, DATE '2026-01-15') AS q, date_add('year', -1, DATE '2024-02-29') AS y, date_add(DATE '2026-01-01', INTERVAL 2 DAY) AS duck;
-- expect:
ms,h,d,w,m,q,y,duck
2026-01-01T00:00:01.5Z,2025-12-31T23:00:00Z,2026-02-01T00:00:00Z,2026-01-08T00:00:00Z,2026-02-28T00:00:00Z,2026-04-15T00:00:00Z,2023-02-28T00:00:00Z,2026-01-03T00:00:00Z

-- name: date_diff counts whole units, as Athena does; DuckDB's datediff counts boundaries
SELECT date_diff('day', TIMESTAMP '2026-01-01 23:00:00', TIMESTAMP '2026-01-02 01:00:00') AS athena, datediff('day', TIMESTAMP '2026-01-01 23:00:00', TIMESTAMP '2026-01-02 01:00:00') AS duck, date_diff('hour', TIMESTAMP '2026-01-01 00:00:00', TIMESTAMP '2026-01-01 05:59:59') AS hours, date_diff('month', DATE '2026-01-31', DATE '2026-03-01') AS months;
-- expect:
athena,duck,hours,months
0,1,5,1

-- name: date_format takes MySQL formats
SELECT date_format(TIMESTAMP '2026-01-04 05:06:07.089', '%Y-%m-%d %H:%i:%s') AS f1, date_format(TIMESTAMP '2026-01-04 15:06:07', '%e %c %k %l %h %M %W %a %b %p %T %r %j %y') AS f2;
-- expect:
f1,f2
2026-01-04 05:06:07,4 1 15 3 03 January Sunday Sun Jan PM 15:06:07 03:06:07 PM 004 26

-- name: date parts by Athena's names
SELECT day_of_week(DATE '2026-01-04') AS dow_sun, dow(DATE '2026-01-05') AS dow_mon, day_of_month(DATE '2026-01-04') AS dom, day_of_year(DATE '2026-02-01') AS doy1, doy(DATE '2026-12-31') AS doy2, week_of_year(DATE '2026-01-01') AS w, year_of_week(DATE '2027-01-01') AS yw, yow(DATE '2026-01-01') AS yw2, last_day_of_month(DATE '2024-02-10') AS last;
-- expect:
dow_sun,dow_mon,dom,doy1,doy2,w,yw,yw2,last
7,1,4,32,365,1,2026,2026,2024-02-29

-- name: strings, JSON, arrays and numbers
SELECT regexp_like('sensor-42', '\d+$') AS re, regexp_like('sensor', '\d') AS re2, levenshtein_distance('kitten', 'sitting') AS lev, json_extract_scalar('{"a":{"b":"x"},"n":1}', '$.a.b') AS s, json_extract_scalar('{"a":{"b":"x"}}', '$.a') AS obj, array_join([1, NULL, 3], '-') AS j1, array_join([1, NULL, 3], '-', 'n') AS j2, sequence(1, 3) AS s1, sequence(10, 1, -4) AS s2, is_nan(CAST('NaN' AS DOUBLE)) AS nan;
-- expect:
re,re2,lev,s,obj,j1,j2,s1,s2,nan
true,false,3,x,,1-3,1-n-3,"[1,2,3]","[10,6,2]",true

-- name: Athena's functions over lake columns
SELECT date_format(ts, '%Y-%m-%d') AS day, count(*) AS n, approx_distinct(device) AS devices, count(DISTINCT device) AS exact FROM lake.sensors WHERE regexp_like(device, '^d[01]$') GROUP BY 1 ORDER BY 1;
-- expect:
day,n,devices,exact
2026-11-20,3,2,2
2026-11-21,4,2,2
2026-11-22,3,2,2
