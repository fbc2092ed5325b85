// bench/userscript.sh: a trivial table filter and one column rename, MOLT's cookbook shape.
import * as api from "replicator@v2";

const skipped = new Set<string>(["audit_log"]);

const upsert = (row: any, meta: any) => {
  if (skipped.has(meta.table)) return null;
  const { payload, ...rest } = row;
  return { ...rest, body: payload };
};

api.configureTargetSchema("SCHEMA", {
  onRowUpsert: upsert,
  onRowDelete: (row: any, meta: any) => (skipped.has(meta.table) ? null : row),
});
