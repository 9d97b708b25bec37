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

-- name: functions DuckDB names the same but answers otherwise give Athena's answers
SELECT regexp_replace('a1b22', '\d', 'X') AS all_matches, regexp_replace('a1b2', '\d') AS removed, regexp_replace('ab', '(a)(b)', '$2$1') AS groups, regexp_extract('abc', '\d') AS no_match, regexp_extract('a12b3', '\d+') AS first, regexp_extract('k=v', '(\w)=(\w)', 2) AS grp, split_part('a,b', ',', 3) AS past_end, split_part('a,,b', ',', 2) AS empty_field, array_position([5, 6], 7) AS missing, array_position([5, 6], 6) AS found, concat('a', NULL) AS null_concat, concat('a', 'b', 'c') AS abc, concat([1], [2, 3]) AS arrays, array_distinct([3, 1, NULL, 3, NULL, 2, 1]) AS distinct_in_order;
-- expect:
all_matches,removed,groups,no_match,first,grp,past_end,empty_field,missing,found,null_concat,abc,arrays,distinct_in_order
aXbXX,ab,ba,,12,v,,,0,2,,abc,"[1,2,3]","[3,1,null,2]"

-- name: arrays and maps by Athena's names
SELECT cardinality([1, 2, 3]) AS card_array, cardinality(MAP {'a': 1, 'b': 2}) AS card_map, cardinality(MAP {1: MAP {2: true}}) AS card_nested, element_at([10, 20, 30], 2) AS e2, element_at([10, 20, 30], -1) AS elast, element_at([10], 5) AS eout, element_at(MAP {'a': 1}, 'a') AS emap, element_at(MAP {'a': 1}, 'z') AS emissing, array_max([1, 5, 3]) AS mx, array_min([4, 2]) AS mn, array_remove([1, 2, NULL, 1], 1) AS removed, arrays_overlap([1, 2], [2, 3]) AS overlap, array_union([3, 1], [1, 2]) AS u, array_except([1, 2, 2, 3], [2]) AS ex, slice([1, 2, 3, 4], 2, 2) AS sl, slice([1, 2, 3, 4], -2, 2) AS sl_end, zip([1, 2], ['a', 'b'])[2] AS z;
-- expect:
card_array,card_map,card_nested,e2,elast,eout,emap,emissing,mx,mn,removed,overlap,u,ex,sl,sl_end,z
3,2,1,20,30,,1,,5,2,"[2,null]",true,"[3,1,2]","[1,3]","[2,3]","[3,4]","{""field0"":2,""field1"":""b""}"

-- name: map_agg, split_to_map and cardinality over a table's rows
SELECT cardinality(m) AS n, element_at(m, 'd0') IS NOT NULL AS has_d0, element_at(split_to_map('a=1;b=2', ';', '='), 'b') AS b FROM (SELECT map_agg(device, x) AS m FROM (SELECT DISTINCT device, 1 AS x FROM lake.sensors));
-- expect:
n,has_d0,b
4,true,2

-- name: JSON, bytes, numbers, zones and URLs by Athena's names
SELECT json_format(json_parse('{"a": [1, 2]}')) AS j, json_size('{"a": [1, 2], "o": {"x": 1}, "s": 1}', '$.a') AS sz_arr, json_size('{"o": {"x": 1, "y": 2}}', '$.o') AS sz_obj, json_size('{"s": 1}', '$.s') AS sz_scalar, json_size('{"s": 1}', '$.none') AS sz_missing, from_utf8(to_utf8('héllo')) AS utf8, codepoint('A') AS cp, truncate(1.57) AS t0, truncate(1.567, 2) AS t2, width_bucket(5, 0, 10, 5) AS wb, width_bucket(-1, 0, 10, 5) AS wb_low, width_bucket(10, 0, 10, 5) AS wb_high, bitwise_and(5, 3) AS band, bitwise_or(5, 3) AS bor, bitwise_xor(5, 3) AS bxor, bitwise_not(5) AS bnot, current_timezone() IS NOT NULL AS tz, with_timezone(TIMESTAMP '2026-01-02 03:04:05', 'America/New_York') AS wtz, at_timezone(TIMESTAMPTZ '2026-01-02 03:04:05+00', 'America/New_York') AS atz;
-- expect:
j,sz_arr,sz_obj,sz_scalar,sz_missing,utf8,cp,t0,t2,wb,wb_low,wb_high,band,bor,bxor,bnot,tz,wtz,atz
"{""a"":[1,2]}",2,2,0,,héllo,65,1,1.56,3,0,6,1,7,6,-6,true,2026-01-02T08:04:05Z,2026-01-01T22:04:05Z

-- name: URL parts by Athena's names
SELECT url_extract_protocol(u) AS proto, url_extract_host(u) AS host, url_extract_port(u) AS port, url_extract_path(u) AS path, url_extract_query(u) AS q, url_extract_fragment(u) AS frag, url_extract_parameter(u, 'c') AS c, url_extract_parameter(u, 'zz') AS zz, url_extract_host('not a url') AS nohost, url_extract_port('http://x.com/') AS noport FROM (SELECT 'https://user:pw@www.example.com:8080/a/b.html?b=1&c=x%20y#top' AS u);
-- expect:
proto,host,port,path,q,frag,c,zz,nohost,noport
https,www.example.com,8080,/a/b.html,b=1&c=x%20y,top,x y,,,

-- name: anonymous rows read with Athena's field names, field0, field1, ...
SELECT row(1, 'a') AS r, (2, (3, 4)) AS nested, [row(5)] AS list, MAP {'k': row(true)} AS m, {'named': row(6)} AS inside, x FROM (SELECT 7 AS x UNION ALL SELECT 8) ORDER BY x DESC;
-- expect:
r,nested,list,m,inside,x
"{""field0"":1,""field1"":""a""}","{""field0"":2,""field1"":{""field0"":3,""field1"":4}}","[{""field0"":5}]","{""k"":{""field0"":true}}","{""named"":{""field0"":6}}",8
"{""field0"":1,""field1"":""a""}","{""field0"":2,""field1"":{""field0"":3,""field1"":4}}","[{""field0"":5}]","{""k"":{""field0"":true}}","{""named"":{""field0"":6}}",7

-- name: a UNION reads as its member's value
SELECT union_value(n := 1) AS u, CAST(union_value(s := 'x') AS UNION(n INTEGER, s VARCHAR)) AS u2, [union_value(n := 2)] AS l;
-- expect:
u,u2,l
1,x,[2]

-- name: integer division is Athena's: an integer quotient, truncated toward zero
SELECT 5 / 2 AS i, -5 / 2 AS neg, 5.0 / 2 AS dec, 5 / 2.0 AS dec2, CAST(5 AS DOUBLE) / 2 AS dbl, sum(x) / count(*) AS agg, avg(x) AS mean FROM (VALUES (1), (2)) AS t(x);
-- expect:
i,neg,dec,dec2,dbl,agg,mean
2,-2,2.5,2.5,2.5,1,1.5

-- name: an expression without an alias is named _col<i> as in Athena; columns and aliases keep their names
SELECT site, count(*), max(temperature) AS hottest, 1, upper(site), s.site FROM lake.sensors s WHERE site IS NOT NULL GROUP BY site ORDER BY site LIMIT 1;
-- expect:
site,_col1,hottest,_col3,_col4,site
s0,5,28,1,S0,s0

-- name: a union's columns are named by its first select
SELECT count(*), 'a' FROM lake.sensors UNION ALL SELECT 1 AS n, 'b' ORDER BY 2;
-- expect:
_col0,_col1
20,a
1,b

-- name: columns around a star are named by their position
SELECT id * 2, *, id + 1 FROM (SELECT 1 AS id, 'x' AS name);
-- expect:
_col0,id,name,_col3
2,1,x,2

-- name: date_parse takes MySQL's format letters, parse_datetime and format_datetime Java's patterns
SELECT date_parse('2026-01-02 03:04:05', '%Y-%m-%d %H:%i:%s') AS dp, typeof(date_parse('Jan 5 2026', '%b %e %Y')) AS dp_type, parse_datetime('2026-1-2 3:04:05 PM', 'yyyy-M-d h:mm:ss a') AS pd, parse_datetime('02/Jan/2026:10:00:00 +0100', 'dd/MMM/yyyy:HH:mm:ss Z') AS clf, format_datetime(TIMESTAMPTZ '2026-01-02 03:04:05.123+00', 'EEEE, MMMM d, yyyy ''at'' h a, SSS') AS fd;
-- expect:
dp,dp_type,pd,clf,fd
2026-01-02T03:04:05Z,TIMESTAMP,2026-01-02T15:04:05Z,2026-01-02T09:00:00Z,"Friday, January 2, 2026 at 3 AM, 123"

-- name: format is Java's printf, whose %s takes any value; DuckDB's format would print '%s' as it is
SELECT format('%s has %d readings, max %.1f', site, count(*), max(temperature)) AS line, format('%s|%s|%5s|%%', 1, [1, 2], true) AS any_value, format('{}', 1) AS braces FROM lake.sensors WHERE site = 's0' GROUP BY site;
-- expect:
line,any_value,braces
"s0 has 5 readings, max 28.0","1|[1, 2]| true|%",{}

-- name: functions that take a lambda: transform, any_match, all_match, none_match (and filter, the same in both)
SELECT transform(ARRAY[1, 2, 3], x -> x * 2) AS doubled, any_match(ARRAY[1, 2], x -> x > 1) AS some, all_match(ARRAY[1, 2], x -> x > 1) AS every, none_match(ARRAY[1, 2], x -> x > 5) AS none, filter(ARRAY[1, 2, 3], x -> x <> 2) AS kept;
-- expect:
doubled,some,every,none,kept
"[2,4,6]",true,false,true,"[1,3]"

-- name: reduce folds with an initial state and an output function
SELECT reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s * 10) AS total, reduce(CAST(ARRAY[] AS INTEGER[]), 5, (s, x) -> s + x, s -> s) AS empty, reduce(ARRAY[2, 3], 1, (s, x) -> s * x, s -> format('%s!', s)) AS product;
-- expect:
total,empty,product
60,5,6!

-- name: TABLESAMPLE's size is a percentage, as in Athena
SELECT (SELECT count(*) FROM lake.sensors TABLESAMPLE BERNOULLI (0)) AS no_rows, (SELECT count(*) FROM lake.sensors TABLESAMPLE BERNOULLI (100)) AS all_rows, (SELECT count(*) FROM lake.sensors TABLESAMPLE SYSTEM (100)) AS system_all;
-- expect:
no_rows,all_rows,system_all
0,20,20

-- name: lambdas of two parameters over maps and pairs of arrays
SELECT map_filter(MAP(ARRAY['a', 'b', 'c'], ARRAY[1, 2, 3]), (k, v) -> v > 1 AND k <> 'c') AS kept, transform_keys(MAP(ARRAY['a'], ARRAY[1]), (k, v) -> upper(k)) AS keys, transform_values(MAP(ARRAY['a', 'b'], ARRAY[1, 2]), (k, v) -> v * 10) AS vals, zip_with(ARRAY[1, 2], ARRAY[10, 20, 30], (x, y) -> x + y) AS zipped, cardinality(map_filter(MAP(ARRAY['a'], ARRAY[1]), (k, v) -> false)) AS none;
-- expect:
kept,keys,vals,zipped,none
"{""b"":2}","{""A"":1}","{""a"":10,""b"":20}","[11,22,null]",0

