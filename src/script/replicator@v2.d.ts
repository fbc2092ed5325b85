// TypeScript declarations of the userscript API, as `replicator userscript --api` prints them
// for editors: save as replicator@v2.d.ts next to your script. The API is MOLT Replicator's
// v2; docs/userscripts.md says what this replicator runs of it.
declare module "replicator@v2" {
  /** A column value. Numbers arrive as strings, so they never lose precision. */
  type RowValue = string | boolean | null | Row | Array<RowValue>;
  type Row = { [column: string]: RowValue };
  /** meta.schema: the target schema; meta.table: the source table. */
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

  /** Table-level handlers: not supported by this replicator yet (refused at start). */
  export function configureTargetTables(tables: string[], handlers: object): void;
}
