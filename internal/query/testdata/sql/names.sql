-- name: columns whose names data files spell otherwise read their values
SELECT id, "user-id", "@type", "9lives" FROM lake.names ORDER BY id;
-- expect:
id,user-id,@type,9lives
1,u1,click,9
2,u2,view,8

-- name: columns equal but for case (a table another writer made) are two, the later one suffixed
SELECT id, "Name", name_1 FROM lake.cased ORDER BY id;
-- expect:
id,Name,name_1
1,upper,lower
2,,only lower

-- name: nested fields with such names, in structs and in lists of structs
SELECT id, ctx."page-url" AS url, ctx."a.b"."c-d" AS cd, items[1]."sku-id" AS sku, len(items) AS n FROM lake.names ORDER BY id;
-- expect:
id,url,cd,sku,n
1,/a,true,s1,1
2,/b,false,s2,2

-- name: the whole rows
SELECT * FROM lake.names ORDER BY id;
-- expect:
id,ts,user-id,@type,Name,9lives,ctx,items
1,2026-11-20T10:00:00Z,u1,click,upper,9,"{""page-url"":""/a"",""a.b"":{""c-d"":true}}","[{""sku-id"":""s1"",""qty"":2}]"
2,2026-11-20T10:01:00Z,u2,view,,8,"{""page-url"":""/b"",""a.b"":{""c-d"":false}}","[{""sku-id"":""s2"",""qty"":1},{""sku-id"":""s3"",""qty"":5}]"

-- name: the columns
SELECT column_name, column_type FROM (DESCRIBE lake.names);
-- expect:
column_name,column_type
id,BIGINT
ts,TIMESTAMP WITH TIME ZONE
user-id,VARCHAR
@type,VARCHAR
Name,VARCHAR
9lives,BIGINT
ctx,"STRUCT(""page-url"" VARCHAR, ""a.b"" STRUCT(""c-d"" BOOLEAN))"
items,"STRUCT(""sku-id"" VARCHAR, qty BIGINT)[]"

-- name: a record with an empty field name, or one equal but for case to a column's, is a dead letter with the reason
SELECT "offset", error_stage, error FROM lake.names_dlq ORDER BY "offset";
-- expect:
offset,error_stage,error
2,decode,"field $[""""] has an empty name, which a column cannot have"
3,convert,"field $.name: its name differs only in case from field Name's, and SQL engines do not tell such names apart (rename one with a transform)"
