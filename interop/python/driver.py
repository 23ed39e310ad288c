"""The interop suite's Python driver.

One long-lived process per test environment: it reads one JSON request per line on stdin and
answers one JSON line on stdout. It is the suite's independent engine (pyiceberg, loading and
writing tables *through the remote catalog*) and its client (every push and pull is a call of
the official lakeFS Python SDK's RemotesApi against the service under test).

Requests: {"op": ..., ...}; answers: {"ok": true, ...} or {"ok": false, "error": "..."}.
"""

import json
import sys
import traceback

import lakefs_sdk
import pyarrow as pa
import pyiceberg
from pyiceberg.catalog import load_catalog
from pyiceberg.schema import Schema
from pyiceberg.table import StaticTable
from pyiceberg.types import LongType, NestedField, StringType

SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "name", StringType(), required=False),
)
ARROW_SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string())])

catalogs = {}
file_io_props = {}


def rows(first, n):
    return pa.Table.from_pylist(
        [{"id": first + i, "name": "row"} for i in range(n)], schema=ARROW_SCHEMA)


def op_versions(_):
    return {"pyiceberg": pyiceberg.__version__, "lakefs_sdk": lakefs_sdk.__version__,
            "remotes_api": hasattr(lakefs_sdk, "RemotesApi")}


def op_catalog(req):
    """Configures a pyiceberg catalog under an alias. name is the catalog's own name (the SQL
    catalog stores it in every row, so it must match the service's catalog_name)."""
    if req.get("shim") == HIVE4_SHIM:
        shim_hive4()
    catalogs[req["alias"]] = load_catalog(req.get("name") or req["alias"], **req["props"])
    return {}


# pyiceberg 0.12.0's HiveCatalog reads tables with the metastore's get_table, which Hive 4
# removed (apache/iceberg-python#1222; only get_table_req remains, present since Hive 2.3).
# The shim makes the bundled Thrift client's get_table call get_table_req, as later pyiceberg
# releases do. op_hive_get_table_unshimmed proves the shim is still needed.
HIVE4_SHIM = "hive4-get-table-req"
_original_get_table = None


def shim_hive4():
    global _original_get_table
    from hive_metastore.ThriftHiveMetastore import Client
    from hive_metastore.ttypes import GetTableRequest
    if _original_get_table is not None:
        return
    _original_get_table = Client.get_table

    def get_table(self, dbname, tbl_name):
        return self.get_table_req(GetTableRequest(dbName=dbname, tblName=tbl_name)).table

    Client.get_table = get_table


def op_hive_get_table_unshimmed(req):
    """Calls the metastore's get_table as pyiceberg 0.12.0 does, without the shim."""
    from pyiceberg.catalog.hive import _HiveClient
    from hive_metastore.ThriftHiveMetastore import Client
    get_table = _original_get_table or Client.get_table
    with _HiveClient(req["uri"]) as client:
        try:
            get_table(client, req["database"], req["table"])
            return {"error": ""}
        except Exception as e:
            return {"error": f"{type(e).__name__}: {e}"}


def op_fileio(req):
    """Object-store properties for reading metadata files directly (StaticTable)."""
    file_io_props.clear()
    file_io_props.update(req["props"])
    return {}


def ident(req):
    return tuple(req["namespace"]) + (req["table"],)


def op_author(req):
    """Creates a table with pyiceberg and appends rows; answers its metadata location."""
    cat = catalogs[req["catalog"]]
    cat.create_namespace_if_not_exists(tuple(req["namespace"]))
    kwargs = {}
    if req.get("location"):
        kwargs["location"] = req["location"]
    tbl = cat.create_table(ident(req), schema=SCHEMA, **kwargs)
    if req.get("rows", 0):
        tbl.append(rows(req.get("first", 1), req["rows"]))
    return {"metadata_location": tbl.metadata_location, "table_uuid": str(tbl.metadata.table_uuid)}


def op_append(req):
    """Appends rows to an existing table through the named catalog."""
    tbl = catalogs[req["catalog"]].load_table(ident(req))
    tbl.append(rows(req.get("first", 1000), req["rows"]))
    return {"metadata_location": tbl.metadata_location}


def op_scan(req):
    """Loads a table through the named catalog and scans every row."""
    tbl = catalogs[req["catalog"]].load_table(ident(req))
    return {"rows": tbl.scan().to_arrow().num_rows, "metadata_location": tbl.metadata_location,
            "table_uuid": str(tbl.metadata.table_uuid)}


def op_list_tables(req):
    """Names of the tables the named catalog lists in a namespace. Hive: the metastore's own
    get_tables (every table of the database), since pyiceberg's list_tables needs
    get_table_objects_by_name, which the Hive stand-in does not serve."""
    cat = catalogs[req["catalog"]]
    ns = tuple(req["namespace"])
    from pyiceberg.catalog.hive import HiveCatalog
    if isinstance(cat, HiveCatalog):
        with cat._client as client:
            return {"tables": list(client.get_tables(db_name=ns[0], pattern="*"))}
    return {"tables": [i[-1] for i in cat.list_tables(ns)]}


def op_scan_location(req):
    """Reads the table whose metadata file is at location (no catalog) and scans every row."""
    tbl = StaticTable.from_metadata(req["location"], properties=dict(file_io_props))
    return {"rows": tbl.scan().to_arrow().num_rows, "table_uuid": str(tbl.metadata.table_uuid)}


def op_replace_unrelated(req):
    """Drops the table in the named catalog and puts an unrelated one under the same name:
    created through the catalog, or (register_from set, for catalogs without create) written
    through the catalog register_from names and registered."""
    cat = catalogs[req["catalog"]]
    cat.drop_table(ident(req))
    if req.get("register_from"):
        src = catalogs[req["register_from"]]
        other = ("unrelated", req["table"])
        src.create_namespace_if_not_exists(("unrelated",))
        tbl = src.create_table(other, schema=SCHEMA, location=req["location"])
        tbl.append(rows(500, 1))
        tbl = cat.register_table(ident(req), tbl.metadata_location)
    else:
        tbl = cat.create_table(ident(req), schema=SCHEMA, location=req["location"])
        tbl.append(rows(500, 1))
    return {"metadata_location": tbl.metadata_location, "table_uuid": str(tbl.metadata.table_uuid)}


def client(req):
    auth = req["auth"]
    if "token" in auth:
        conf = lakefs_sdk.Configuration(host=req["host"], access_token=auth["token"])
    else:
        conf = lakefs_sdk.Configuration(host=req["host"], username=auth["key"], password=auth["secret"])
    return lakefs_sdk.ApiClient(conf)


def call(fn):
    try:
        resp = fn()
        return {"status": resp.status_code, "body": ""}
    except lakefs_sdk.exceptions.ApiException as e:
        return {"status": e.status, "body": e.body if isinstance(e.body, str) else (e.body or b"").decode()}


def op_push(req):
    with client(req) as c:
        api = lakefs_sdk.RemotesApi(c)
        body = lakefs_sdk.IcebergPushRequest(
            source=lakefs_sdk.IcebergLocalTable(**req["source"]),
            destination=lakefs_sdk.IcebergRemoteTable(**req["destination"]),
            force_update=req.get("force_update", False),
            create_namespace=req.get("create_namespace", False))
        return call(lambda: api.push_iceberg_table_with_http_info(req["remote"], body, _request_timeout=60))


def op_pull(req):
    with client(req) as c:
        api = lakefs_sdk.RemotesApi(c)
        body = lakefs_sdk.IcebergPullRequest(
            source=lakefs_sdk.IcebergRemoteTable(**req["source"]),
            destination=lakefs_sdk.IcebergLocalTable(**req["destination"]),
            force_update=req.get("force_update", False),
            create_namespace=req.get("create_namespace", False))
        return call(lambda: api.pull_iceberg_table_with_http_info(req["remote"], body, _request_timeout=60))


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def main():
    for line in sys.stdin:
        req = json.loads(line)
        try:
            out = OPS[req["op"]](req)
            out["ok"] = True
        except Exception as e:  # every failure goes back to the Go test, which decides
            out = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-4000:]}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
