// Runs once in each fresh engine context, before the user's script (script/userscript.cc
// embeds this file). It is a function of `host`, the replicator's native functions, which stay
// in this closure: the global object gets only `console`. Returns what the replicator reads
// back: the handlers the script registered, and `main` to run the script.
(function (host) {
  "use strict";

  // --- console: into the replicator's logger ------------------------------------------------
  let consoleOn = true;
  const show = (v) => {
    if (typeof v === "string") return v;
    try {
      const json = JSON.stringify(v);
      return json === undefined ? String(v) : json;
    } catch {
      return String(v);
    }
  };
  const console = {};
  for (const level of ["log", "info", "debug", "trace", "warn", "error"]) {
    console[level] = (...args) => {
      if (consoleOn) host.log(level, args.map(show).join(" "));
    };
  }
  console.disable = () => { consoleOn = false; };
  console.enable = () => { consoleOn = true; };
  globalThis.console = Object.freeze(console);

  // --- replicator@v2 ---------------------------------------------------------------------------
  const schemas = new Map();  // target schema -> {onRowUpsert, onRowDelete}
  const tables = new Map();   // target table (as given) -> {onRowUpsert, onRowDelete, onWrite}
  const fn = (f) => typeof f === "function";

  const v2 = {
    configureTargetSchema(name, handlers) {
      if (typeof name !== "string" || name === "") {
        throw new TypeError("configureTargetSchema: the first argument must be the target " +
                            "schema's name, such as \"defaultdb.public\"");
      }
      if (!handlers || !fn(handlers.onRowUpsert) || !fn(handlers.onRowDelete)) {
        throw new TypeError("configureTargetSchema(\"" + name + "\"): both onRowUpsert and " +
                            "onRowDelete are required functions");
      }
      schemas.set(name, { onRowUpsert: handlers.onRowUpsert, onRowDelete: handlers.onRowDelete });
    },
    configureTargetTables(names, handlers) {
      if (!Array.isArray(names) || names.some((t) => typeof t !== "string" || t === "")) {
        throw new TypeError("configureTargetTables: the first argument must be an array of " +
                            "target table names");
      }
      handlers = handlers || {};
      if (fn(handlers.onRowUpsert) !== fn(handlers.onRowDelete)) {
        throw new TypeError("configureTargetTables([" + names.join(", ") + "]): give both " +
                            "onRowUpsert and onRowDelete, or neither");
      }
      for (const t of names) {
        tables.set(t, {
          onRowUpsert: handlers.onRowUpsert,
          onRowDelete: handlers.onRowDelete,
          onWrite: handlers.onWrite,
        });
      }
    },
    getTX() {
      if (!writing) throw new Error("getTX() is only available inside an onWrite handler");
      return tx;
    },
    write(rows) {
      if (!writing) {
        return Promise.reject(new Error("write() is only available inside an onWrite handler"));
      }
      return settled(() => host.txWrite(rows));
    },
  };
  Object.freeze(v2);

  // --- onWrite: the apply side's open target transaction ---------------------------------------
  // The host's functions finish before they return (the statement has run), so every promise
  // an onWrite handler awaits is settled, and the engine runs the handler to its end before
  // runWrite's caller regains control (microtasks drain when the call returns).
  let writing = false;
  const settled = (f) => {
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  const tx = Object.freeze({
    query: (sql, ...params) => settled(() => host.txQuery(String(sql), params)),
    exec: (sql, ...params) => settled(() => host.txExec(String(sql), params)),
    columns: () => host.txColumns(),
    schema: () => host.txSchema(),
    table: () => host.txTable(),
  });
  const runWrite = (handler, ops) => {
    const state = { done: false, error: undefined };
    writing = true;
    settled(() => handler(ops)).then(
      () => { state.done = true; },
      (e) => { state.done = true; state.failed = true; state.error = e; });
    return state;
  };
  const endWrite = () => { writing = false; };

  // --- modules: CommonJS after type stripping (sucrase turns imports into require) -------------
  const cache = new Map();  // resolved path -> module
  const makeRequire = (fromDir) => function require(spec) {
    if (spec === "replicator@v2") return v2;
    if (spec === "replicator@v1" || spec === "cdc-sink@v1") {
      throw new Error("import \"" + spec + "\": API v1 (configureSource, configureTable) is " +
                      "not supported yet; use \"replicator@v2\" (configureTargetSchema, " +
                      "configureTargetTables)");
    }
    const found = host.resolve(spec, fromDir);  // {path, dir, text?, code?}
    const cached = cache.get(found.path);
    if (cached) return cached.exports;  // a cycle sees the exports made so far
    const module = { exports: {} };
    cache.set(found.path, module);
    if (found.text !== undefined) {
      module.exports = { __esModule: true, default: found.text };
    } else {
      host.compile(found.code, found.path)(module.exports, makeRequire(found.dir), module);
    }
    return module.exports;
  };

  return {
    main(path) { makeRequire("")(path); },
    schemas,
    tables,
    runWrite,
    endWrite,
  };
})
