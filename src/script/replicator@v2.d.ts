// TypeScript declarations of the userscript APIs, as `replicator userscript --api` prints them
// for editors: save as replicator.d.ts next to your script. The APIs are MOLT Replicator's
// v2 and its legacy v1; docs/userscripts.md says what this replicator runs of them.
declare module "replicator@v2" {
  /** A column value. Numbers arrive as strings, so they never lose precision. */
  type RowValue = string | boolean | null | Row | Array<RowValue>;
  type Row = { [column: string]: RowValue };
  /** meta.schema: the target schema; meta.table: the source table (Oracle's spelling on oraclelogminer). */
  type Metadata = Row & { schema: string; table: string; sourceSchema?: string };
  /** A row, {targetTable: rows} to route or fan out, or null (or undefined) to drop it. */
  type Answer = Row | Record<string, Row[]> | null | undefined;

  /**
   * Handlers for every row change the source sends for `targetSchema` (compared exactly
   * with --targetSchema). Both are required. onRowDelete receives the key columns and
   * answers with the target's key columns.
   */
  export function configureTargetSchema(
    targetSchema: string,
    handlers: {
      onRowUpsert: (row: Row, meta: Metadata) => Answer;
      onRowDelete: (row: Row, meta: Metadata) => Answer;
    },
  ): void;

  /** meta of table-level handlers: meta.schema: --targetSchema; meta.table: the target table. */
  type TableMetadata = Row & { schema: string; table: string };
  /** A row change as onWrite receives it and api.write takes it. pk: the key's values, in key order. */
  type RowOp = ({ action: "delete" } | { action: "upsert"; data: Row }) & {
    /** On a key change whose new row lacks columns: the old key. */
    before?: Row;
    meta: TableMetadata;
    pk: string[];
  };
  /** A target column, as getTX().columns() lists them (key columns first, in key order). */
  type TargetColumn = { defaultExpr?: string; ignored: boolean; name: string; primary: boolean; type: string };

  /**
   * Handlers for target tables (bare names, schema.table, database.schema.table, or
   * --targetSchema followed by the table), run on the apply side after the schema-level
   * ones. onRowUpsert and onRowDelete come together or not at all.
   */
  export function configureTargetTables(
    tables: string[],
    handlers: {
      /** The target table's columns the row carries; answer the row, or null to skip it. */
      onRowUpsert?: (row: Row, meta: TableMetadata) => Row | null | undefined;
      /** The primary key's values in key order; answer them, or null to skip the delete. */
      onRowDelete?: (keyVals: string[], meta: TableMetadata) => string[] | null | undefined;
      /** Replaces the write of the table's rows in a batch: write them with api.write. */
      onWrite?: (rows: RowOp[]) => Promise<any> | any;
    },
  ): void;

  /** The open target transaction of the batch; only inside onWrite. */
  interface TargetTX {
    /** Rows of a query in the transaction; placeholders $1, $2, ... */
    query(sql: string, ...params: any[]): Promise<Iterable<any[]>>;
    /** Runs a statement in the transaction (SAVEPOINT, ROLLBACK TO SAVEPOINT, DML). */
    exec(sql: string, ...params: any[]): Promise<void>;
    columns(): TargetColumn[];
    /** The target schema, quoted for SQL. */
    schema(): string;
    /** The target table, quoted and qualified for SQL. */
    table(): string;
  }
  export function getTX(): TargetTX;
  /** The standard write of the rows, in the transaction; errors hold "SQLSTATE nnnnn". */
  export function write(rows: RowOp[]): Promise<void>;
}

/** Legacy API v1; prefer "replicator@v2". */
declare module "replicator@v1" {
  type DocumentValue = null | boolean | number | string | Document | Array<DocumentValue>;
  type Document = { [property: string]: DocumentValue };
  type Table = string;
  type Column = string;
  type Metadata = { [key: string]: any; schema: string; table: string };
  type ApplyOp = ({ action: "delete" } | { action: "upsert"; data: Document }) & {
    before?: Document;
    meta: Metadata;
    pk: DocumentValue[];
  };
  type Dispatch = (doc: Document, meta: Metadata) => Record<Table, Document[]> | null | undefined;

  /** name: the target schema (compared exactly with --targetSchema). */
  export function configureSource(
    name: string,
    props: { dispatch: Dispatch; deletesTo: Table | Dispatch; recurse?: boolean } | { target: Table },
  ): void;
  /**
   * Per target table. ignore: source columns never written (also ones the target lacks).
   * extras: a JSONB column that receives the source columns the target lacks, as one JSON
   * object of their texts. exprs: {column: "SQL"}, the target computes the value written
   * with it, $0 standing for the value sent (no $0: a constant, written with every upsert);
   * not on primary key columns. Refused here, with the reason: cas, deadlines, merge
   * (changefeed modes only). rowLimit is ignored with a warning.
   */
  export function configureTable(
    table: Table,
    options: Partial<{
      map: (doc: Document, meta: Metadata) => Document | null | undefined;
      deleteKey: (key: DocumentValue[], meta: Metadata) => DocumentValue[] | null | undefined;
      ignore: { [column: Column]: boolean };
      extras: Column;
      exprs: { [column: Column]: string };
      apply: (ops: ApplyOp[]) => Promise<any> | any;
      rowLimit: number;
    }>,
  ): void;
  interface TargetTX {
    apply(ops: ApplyOp[]): Promise<void>;
    columns(): { defaultExpr?: string; ignored: boolean; name: string; primary: boolean; type: string }[];
    exec(sql: string, ...params: any[]): Promise<void>;
    query(sql: string, ...params: any[]): Promise<Iterable<any[]>>;
    schema(): string;
    table(): string;
  }
  /** Only inside an apply callback. */
  export function getTX(): TargetTX;
  export function randomUUID(): string;
  /** Refused here: give flags on the command line. */
  export function setOptions(options: { [flag: string]: string }): void;
  /** Refused here (merge is for MOLT's changefeed modes). */
  export function standardMerge(fallback?: any): never;
}

/** The old name of "replicator@v1". */
declare module "cdc-sink@v1" {
  export * from "replicator@v1";
}

/**
 * The global console writes into the replicator's log (log, info, debug, trace, warn, error
 * at the level of their name); disable() silences it until enable().
 */
interface Console {
  disable(): void;
  enable(): void;
}
