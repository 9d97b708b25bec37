-- name: CREATE VIEW keeps a view in the catalog
CREATE VIEW lake.warm AS SELECT id, device, temperature FROM lake.sensors WHERE temperature > 20;
-- expect:
result

-- name: a view reads like a table
SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM lake.warm;
-- expect:
n,lo,hi
9,11,19

-- name: a view over a view
CREATE VIEW lake.warm_devices AS SELECT device, count(*) AS n FROM lake.warm GROUP BY device;
-- expect:
result

-- name: the view over the view
SELECT * FROM lake.warm_devices ORDER BY device;
-- expect:
device,n
d0,2
d1,2
d2,2
d3,3

-- name: a view joined with a table
SELECT s.device, count(*) AS readings, any_value(w.n) AS warm FROM lake.sensors s JOIN lake.warm_devices w USING (device) GROUP BY s.device ORDER BY s.device;
-- expect:
device,readings,warm
d0,5,2
d1,5,2
d2,5,2
d3,5,3

-- name: a view of that name exists
CREATE VIEW lake.warm AS SELECT 1 AS x;
-- error: USER: query: view lake.warm: already exists (CREATE OR REPLACE VIEW replaces it)

-- name: CREATE OR REPLACE VIEW replaces it, and the view over it follows
CREATE OR REPLACE VIEW lake.warm AS SELECT id, device, temperature FROM lake.sensors WHERE temperature > 21;
-- expect:
result

-- name: the view over the replaced view
SELECT * FROM lake.warm_devices ORDER BY device;
-- expect:
device,n
d0,2
d1,2
d2,2
d3,2

-- name: DESCRIBE a view
DESCRIBE lake.warm_devices;
-- expect:
column_name,column_type,null,key,default,extra
device,VARCHAR,YES,,,
n,BIGINT,YES,,,

-- name: SHOW VIEWS
SHOW VIEWS IN lake;
-- expect:
views
warm
warm_devices

-- name: SHOW TABLES lists views too
SHOW TABLES IN lake LIKE 'warm%';
-- expect:
tab_name
warm
warm_devices

-- name: SHOW CREATE VIEW
SHOW CREATE VIEW lake.warm;
-- expect:
createtab_stmt
CREATE VIEW `lake`.`warm` AS
"SELECT id, device, temperature FROM lake.sensors WHERE temperature > 21"

-- name: SHOW COLUMNS of a view
SHOW COLUMNS IN lake.warm_devices;
-- expect:
field
device
n

-- name: a view that would read itself
CREATE OR REPLACE VIEW lake.warm AS SELECT device AS id, device, n AS temperature FROM lake.warm_devices;
-- error: USER: query: invalid view lake.warm: it would read itself

-- name: a view over a missing table
CREATE VIEW lake.ghost AS SELECT * FROM lake.nothing;
-- error: lake.nothing

-- name: a view of something other than a query
CREATE VIEW lake.bad AS DELETE FROM lake.sensors;
-- error: USER: query: invalid view lake.bad: a view is one query

-- name: a view with Athena's functions
CREATE VIEW lake.days AS SELECT date_format(ts, '%Y-%m-%d') AS day, count(*) AS n FROM lake.sensors GROUP BY 1;
-- expect:
result

-- name: reading it
SELECT * FROM lake.days ORDER BY day;
-- expect:
day,n
2026-11-20,7
2026-11-21,7
2026-11-22,6

-- name: a view at a snapshot
CREATE VIEW lake.first AS SELECT count(*) AS n FROM lake.sensors FOR VERSION AS OF {{snapshot lake.sensors 0}};
-- expect:
result

-- name: reading the view at a snapshot
SELECT n FROM lake.first;
-- expect:
n
10

-- name: DROP VIEW of a table
DROP VIEW lake.sensors;
-- error: USER: query: lake.sensors is a table, not a view

-- name: DROP VIEW
DROP VIEW lake.warm_devices;
-- expect:
result

-- name: a dropped view is gone
SELECT * FROM lake.warm_devices;
-- error: lake.warm_devices

-- name: DROP VIEW of a missing view
DROP VIEW lake.warm_devices;
-- error: USER: query: view lake.warm_devices not found (DROP VIEW IF EXISTS ignores a missing view)

-- name: DROP VIEW IF EXISTS of a missing view
DROP VIEW IF EXISTS lake.warm_devices;
-- expect:
result

-- name: the other views stay
SHOW VIEWS IN lake;
-- expect:
views
days
first
warm


-- name: a view that renames the partition source
CREATE VIEW lake.readings AS SELECT id, ts AS read_at, device FROM lake.sensors WHERE ts < TIMESTAMPTZ '2026-11-22 00:00:00+00';
-- expect:
result

-- name: the query's filter on the renamed column and the view's own, pruned and applied
SELECT read_at::DATE AS day, count(*) AS n FROM lake.readings WHERE read_at >= TIMESTAMPTZ '2026-11-21 00:00:00+00' GROUP BY ALL ORDER BY ALL;
-- expect:
day,n
2026-11-21,7

-- name: the same filter over a subquery of the view (not pruned) reads the same rows
SELECT count(*) AS n FROM (SELECT * FROM lake.readings) WHERE read_at >= TIMESTAMPTZ '2026-11-21 00:00:00+00';
-- expect:
n
7
