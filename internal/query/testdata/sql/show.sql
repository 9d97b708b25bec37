-- name: SHOW DATABASES lists the catalog's databases
SHOW DATABASES;
-- expect:
database_name
lake
raw

-- name: SHOW SCHEMAS with a LIKE pattern
SHOW SCHEMAS LIKE 'L%';
-- expect:
database_name
lake

-- name: SHOW TABLES without IN lists every database's tables
SHOW TABLES;
-- expect:
database_name,tab_name
lake,cased
lake,names
lake,names_dlq
lake,sensors
lake,sensors_dlq
raw,names
raw,sensors

-- name: SHOW TABLES IN a database, Athena's pattern
SHOW TABLES IN lake 'sensors|nothing*';
-- expect:
tab_name
sensors

-- name: SHOW TABLES FROM a database, LIKE
SHOW TABLES FROM lake LIKE '%dlq';
-- expect:
tab_name
names_dlq
sensors_dlq

-- name: SHOW COLUMNS of a lake table, in the table's order
SHOW COLUMNS FROM lake.sensors;
-- expect:
field
id
ts
device
temperature
site
loc

-- name: SHOW COLUMNS of a raw table, Athena's other form
SHOW COLUMNS IN sensors FROM raw;
-- expect:
field
topic
partition
offset
timestamp
key
key_b64
headers
value
value_text
value_b64
dt
hr
p

-- name: SHOW PARTITIONS of a lake table: its current files' day partitions
SHOW PARTITIONS lake.sensors;
-- expect:
partition
ts_day=2026-11-20
ts_day=2026-11-21
ts_day=2026-11-22

-- name: SHOW TABLES IN a database that does not exist
SHOW TABLES IN nowhere;
-- error: database nowhere

-- name: SHOW PARTITIONS of a table that does not exist
SHOW PARTITIONS lake.nothing;
-- error: table lake.nothing not found

-- name: SHOW TBLPROPERTIES of a crawled table, one property
SHOW TBLPROPERTIES raw.sensors ('classification');
-- expect:
prpt_name,prpt_value
classification,json

-- name: SHOW TBLPROPERTIES of an Iceberg table, one property
SHOW TBLPROPERTIES lake.sensors ('write.parquet.compression-codec');
-- expect:
prpt_name,prpt_value
write.parquet.compression-codec,zstd

-- name: MSCK REPAIR TABLE is not needed: the crawlers register partitions
MSCK REPAIR TABLE raw.sensors;
-- error: USER: query: MSCK REPAIR TABLE is not needed: crawlers register partitions and files (streamlake crawl --name N, or run on each crawler's interval); the raw staging tables are read whole: not supported
