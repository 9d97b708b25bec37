-- name: CTAS with day and bucket partitioning writes a catalog table
CREATE TABLE lake.sensor_days WITH (partitioning = ARRAY['day(ts)', 'bucket(4, id)'], format = 'PARQUET') AS SELECT id, ts, device, temperature, site FROM lake.sensors WHERE id < 15;
-- expect:
rows_written
15

-- name: the new table reads like any lake table
SELECT ts::DATE AS day, count(*) AS n, count(site) AS with_site FROM lake.sensor_days GROUP BY ALL ORDER BY ALL;
-- expect:
day,n,with_site
2026-11-20,5,1
2026-11-21,5,2
2026-11-22,5,2

-- name: a partition filter on the new table
SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM lake.sensor_days WHERE ts >= TIMESTAMPTZ '2026-11-21 00:00:00+00' AND ts < TIMESTAMPTZ '2026-11-22 00:00:00+00';
-- expect:
n,lo,hi
5,1,13

-- name: CTAS of an aggregate
CREATE TABLE lake.device_stats AS SELECT device, count(*) AS n, round(avg(temperature), 2) AS avg_t FROM lake.sensors GROUP BY device;
-- expect:
rows_written
4

-- name: the aggregate's rows and types
SELECT device, n, avg_t, typeof(n) AS n_type, typeof(avg_t) AS avg_type FROM lake.device_stats ORDER BY device;
-- expect:
device,n,avg_t,n_type,avg_type
d0,5,18.3,BIGINT,DOUBLE
d1,5,19.3,BIGINT,DOUBLE
d2,5,20.2,BIGINT,DOUBLE
d3,5,21.2,BIGINT,DOUBLE

-- name: INSERT SELECT appends
INSERT INTO lake.sensor_days SELECT id, ts, device, temperature, site FROM lake.sensors WHERE id >= 15;
-- expect:
rows_written
5

-- name: INSERT VALUES with a column list; the other columns are NULL
INSERT INTO lake.sensor_days (id, ts, device) VALUES (100, '2026-11-25 00:00:00+00', 'new');
-- expect:
rows_written
1

-- name: INSERT with parameters
-- params: ["p", 7]
INSERT INTO lake.device_stats (device, n) VALUES (?, ?);
-- expect:
rows_written
1

-- name: after the inserts
SELECT count(*) AS n, count(DISTINCT id) AS ids, max(id) AS hi, count(temperature) AS with_t FROM lake.sensor_days;
-- expect:
n,ids,hi,with_t
21,21,100,20

-- name: the inserted row with NULLs
SELECT id, ts, device, temperature, site FROM lake.sensor_days WHERE id = 100;
-- expect:
id,ts,device,temperature,site
100,2026-11-25T00:00:00Z,new,,

-- name: the parameters' row
SELECT device, n, avg_t FROM lake.device_stats WHERE device = 'p';
-- expect:
device,n,avg_t
p,7,

-- name: the written table's first snapshot, by time travel
SELECT count(*) AS n FROM lake.sensor_days FOR VERSION AS OF {{snapshot lake.sensor_days 0}};
-- expect:
n
15

-- name: CTAS from an old snapshot keeps that snapshot's schema
CREATE TABLE lake.sensors_v0 AS SELECT * FROM lake.sensors FOR VERSION AS OF {{snapshot lake.sensors 0}};
-- expect:
rows_written
10

-- name: the copied snapshot
SELECT * FROM lake.sensors_v0 ORDER BY id LIMIT 2;
-- expect:
id,ts,device,temperature
0,2026-11-20T10:00:00Z,d0,10.5
1,2026-11-21T10:00:00Z,d1,11.5

-- name: CTAS into an existing table fails
CREATE TABLE lake.sensor_days AS SELECT 1 AS x;
-- error: USER: query: CREATE TABLE lake.sensor_days: table lake.sensor_days already exists (iceberg): already exists; use INSERT INTO to add rows

-- name: INSERT of a value that does not convert names the column
INSERT INTO lake.sensor_days (id, ts) VALUES ('x', '2026-11-25 00:00:00+00');
-- error: USER: query: INSERT INTO lake.sensor_days: column id is long in the table, and the query's column 1 (col0) is VARCHAR, which does not convert to it; CAST it: not supported

-- name: INSERT into a crawled table is refused
INSERT INTO raw.sensors SELECT * FROM raw.sensors;
-- error: USER: query: INSERT INTO raw.sensors: raw.sensors is an external (crawled) table, which queries cannot write

-- name: CTAS cannot choose a location
CREATE TABLE lake.elsewhere WITH (location = '/tmp/elsewhere') AS SELECT 1 AS x;
-- error: USER: query: CREATE TABLE lake.elsewhere: WITH: location: a table's location is not allowed: tables are created in the lake's warehouse

-- name: CTAS partitioned by day of a column whose name is not an Avro name (Logstash's @timestamp)
CREATE TABLE lake.stamped WITH (partitioning = ARRAY['day(@ts)']) AS SELECT ts AS "@ts", id FROM lake.sensors;
-- expect:
rows_written
20

-- name: its partitions, named as manifests can hold them
SELECT partition, record_count FROM lake."stamped$partitions" ORDER BY 1;
-- expect:
partition,record_count
"{""_x40ts_day"":""2026-11-20""}",7
"{""_x40ts_day"":""2026-11-21""}",7
"{""_x40ts_day"":""2026-11-22""}",6


-- name: CTAS of anonymous rows names their fields as Athena shows them
CREATE TABLE lake.rows AS SELECT row(id, device) AS r, [(1, 2)] AS pairs, id FROM lake.sensors WHERE id <= 2;
-- expect:
rows_written
3

-- name: INSERT of anonymous rows into it, by position
INSERT INTO lake.rows SELECT (9, 'd9'), [(3, 4)], 9;
-- expect:
rows_written
1

-- name: the rows read back with their fields' names
SELECT r.field1 AS device, r, pairs FROM lake.rows ORDER BY id;
-- expect:
device,r,pairs
d0,"{""field0"":0,""field1"":""d0""}","[{""field0"":1,""field1"":2}]"
d1,"{""field0"":1,""field1"":""d1""}","[{""field0"":1,""field1"":2}]"
d2,"{""field0"":2,""field1"":""d2""}","[{""field0"":1,""field1"":2}]"
d9,"{""field0"":9,""field1"":""d9""}","[{""field0"":3,""field1"":4}]"

-- name: a partition column whose name is not letters, digits and _ is quoted, as in Trino
CREATE TABLE lake.agents WITH (partitioning = ARRAY['"user-agent"', 'bucket(2, "user-agent")']) AS SELECT 'curl' AS "user-agent", 1 AS id;
-- expect:
rows_written
1

-- name: unquoted, it is refused with the quoting to use
CREATE TABLE lake.agents2 WITH (partitioning = ARRAY['user-agent']) AS SELECT 'curl' AS "user-agent", 1 AS id;
-- error: USER: query: CREATE TABLE lake.agents2: WITH: partitioning: "user-agent" is not col, year|month|day|hour(col) or bucket|truncate(n, col) (quote a column whose name is not letters, digits and _, as Trino does: '"user-agent"'): not supported

-- name: CTAS names an expression without an alias as a query shows it
CREATE TABLE lake.unnamed AS SELECT device, count(*), max(id) AS top FROM lake.sensors GROUP BY device;
-- expect:
rows_written
4

-- name: its columns
SELECT column_name FROM (DESCRIBE lake.unnamed);
-- expect:
column_name
device
_col1
top

-- name: DROP TABLE drops a table CTAS made
DROP TABLE lake.unnamed;
-- expect:
result

-- name: the dropped table is gone
SELECT * FROM lake.unnamed;
-- error: lake.unnamed

-- name: DROP TABLE of a missing table
DROP TABLE lake.unnamed;
-- error: USER: query: table lake.unnamed not found (DROP TABLE IF EXISTS ignores a missing table): no such table

-- name: DROP TABLE IF EXISTS of a missing table
DROP TABLE IF EXISTS lake.unnamed;
-- expect:
result

-- name: the name can be used again, and reads only the new table's rows
CREATE TABLE lake.unnamed AS SELECT 'x' AS device, 7 AS n;
-- expect:
rows_written
1

-- name: the new table
SELECT * FROM lake.unnamed;
-- expect:
device,n
x,7

-- name: DROP TABLE of a view
DROP TABLE lake.warm;
-- error: USER: query: lake.warm is a view (DROP VIEW drops it): not supported

-- name: ALTER TABLE ADD COLUMNS adds columns that read NULL in the rows before them
ALTER TABLE lake.unnamed ADD COLUMNS (note string COMMENT 'free text', loc struct<city:string,zip:int>);
-- expect:
result

-- name: the added columns
SELECT * FROM lake.unnamed;
-- expect:
device,n,note,loc
x,7,,

-- name: rows written after read them
INSERT INTO lake.unnamed VALUES ('y', 8, 'hello', {'city': 'Oslo', 'zip': 150});
-- expect:
rows_written
1

-- name: ALTER TABLE RENAME COLUMN on a struct's field
ALTER TABLE lake.unnamed RENAME COLUMN loc.city TO town;
-- expect:
result

-- name: ALTER TABLE CHANGE renames a column and widens its type
ALTER TABLE lake.unnamed CHANGE COLUMN n amount bigint COMMENT 'how many';
-- expect:
result

-- name: the old files read under the new names
SELECT device, amount, loc.town, loc.zip FROM lake.unnamed ORDER BY device;
-- expect:
device,amount,town,zip
x,7,,
y,8,Oslo,150

-- name: ALTER TABLE DROP COLUMN
ALTER TABLE lake.unnamed DROP COLUMN note;
-- expect:
result

-- name: the columns after the changes
SELECT column_name, column_type FROM (DESCRIBE lake.unnamed);
-- expect:
column_name,column_type
device,VARCHAR
amount,BIGINT
loc,"STRUCT(town VARCHAR, zip INTEGER)"

-- name: a type Iceberg does not promote to
ALTER TABLE lake.unnamed CHANGE amount amount int;
-- error: USER: query: ALTER TABLE lake.unnamed

-- name: a column that exists
ALTER TABLE lake.unnamed ADD COLUMNS (device string);
-- error: USER: query: ALTER TABLE lake.unnamed

-- name: a column that does not exist
ALTER TABLE lake.unnamed DROP COLUMN nope;
-- error: USER: query: ALTER TABLE lake.unnamed

-- name: a statement ALTER TABLE does not take
ALTER TABLE lake.unnamed RENAME TO lake.other;
-- error: USER: query: ALTER TABLE lake.unnamed: not a change it makes (ALTER TABLE takes ADD COLUMNS (col type, ...), ADD COLUMN col type, DROP COLUMN col, CHANGE [COLUMN] col new_name type, RENAME COLUMN col TO new_name, SET TBLPROPERTIES ('key' = 'value', ...)): not supported

-- name: ALTER TABLE SET TBLPROPERTIES
ALTER TABLE lake.unnamed SET TBLPROPERTIES ('owner' = 'data-eng');
-- expect:
result

-- name: the property
SHOW TBLPROPERTIES lake.unnamed ('owner');
-- expect:
prpt_name,prpt_value
owner,data-eng

-- name: ALTER TABLE of a view
ALTER TABLE lake.warm ADD COLUMNS (x int);
-- error: USER: query: ALTER TABLE lake.warm: it is a view (CREATE OR REPLACE VIEW changes it): not supported

-- name: a partition source cannot be dropped
ALTER TABLE lake.sensors DROP COLUMN ts;
-- error: USER: query: ALTER TABLE lake.sensors: column ts is the source of partition field ts_day, so it cannot be dropped: invalid table change

-- name: a column added under a name that is taken
ALTER TABLE lake.unnamed ADD COLUMNS (Device string);
-- error: USER: query: ALTER TABLE lake.unnamed: column Device exists: invalid table change
