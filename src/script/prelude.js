// Runs once in each fresh engine context, before the user's script (script/userscript.cc
// embeds this file). It is a function of `host`, the replicator's native functions, which stay
// in this closure: the global object gets only `console`. Returns what the replicator reads
// back: the handlers the script registered, and `main` to run the script.
(function (host) {
  "use strict";

  // Sets o[k] = v as an own data property, even for k "__proto__" (an assignment would set
  // the prototype). Taken before the user's script runs, which may replace
  // Object.defineProperty or give Object.prototype a `get` (hence a descriptor without one).
  const defineProperty = Object.defineProperty;
  const ownProperty = (o, k, v) => defineProperty(
    o, k, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true });

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
  // v1's configureTable: target table (as given) -> {extras, ignore: [columns]}, which the
  // catalog applies where source columns meet the target's (target::ColumnRules).
  const columnRules = new Map();
  const fn = (f) => typeof f === "function";
  // core::fold_upper_case: an all upper-case name in lower case (ASCII only), any other as is.
  const foldUpperCase = (name) =>
    /[a-z]/.test(name) ? name : name.replace(/[A-Z]/g, (c) => c.toLowerCase());

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

  // --- replicator@v1 (legacy): configureSource / configureTable on top of v2's handlers ------
  // MOLT's v1 options that tune its changefeed (webhook) modes, where mutations may arrive out
  // of order or from several writers; logical replication applies each table's changes once,
  // in source order, so they have no meaning here. Refused, never ignored.
  const v1Refused = {
    cas: "cas (compare-and-set against out-of-order delivery) is for MOLT's changefeed " +
         "modes; logical replication applies every change in source order: remove it",
    deadlines: "deadlines (dropping mutations older than a duration) would lose source " +
               "changes here: remove it",
    merge: "merge (conflict resolution for several writers) is for MOLT's changefeed " +
           "modes; logical replication has one writer, the source: remove it",
  };
  // dispatch's table names: bare, or qualified by the configured source name (the target
  // schema, as MOLT's examples give it) or its last part. Anything else would route a row
  // into a table of --targetSchema that the script did not name.
  const v1Table = (source, t) => {
    const name = String(t);
    const schemaPart = source.split(".").pop();
    for (const prefix of [source + ".", schemaPart + "."]) {
      if (name.startsWith(prefix) && !name.slice(prefix.length).includes(".")) {
        return name.slice(prefix.length);
      }
    }
    if (!name.includes(".")) return name;
    throw new Error("table \"" + name + "\" is not in \"" + source + "\"; name tables of " +
                    "the configured source only, bare or qualified by it");
  };
  const v1Route = (source, answer) => {
    if (answer === null || answer === undefined) return null;
    if (typeof answer !== "object" || Array.isArray(answer)) {
      throw new TypeError("dispatch must return {table: [documents]} or null");
    }
    const out = {};
    for (const t of Object.keys(answer)) {
      const docs = answer[t];
      if (!Array.isArray(docs)) {
        throw new TypeError("dispatch returned " + typeof docs + " for table \"" + t +
                            "\"; each table takes an array of documents");
      }
      const name = v1Table(source, t);
      ownProperty(out, name, (Object.hasOwn(out, name) ? out[name] : []).concat(docs));
    }
    return out;
  };
  const v1 = {
    configureSource(name, props) {
      if (typeof name !== "string" || name === "" || !props || typeof props !== "object") {
        throw new TypeError("configureSource(name, {dispatch, deletesTo} | {target})");
      }
      if (props.recurse) {
        host.log("warn", "configureSource(\"" + name + "\"): recurse has no meaning for " +
                 "logical replication (rows arrive flat); ignored");
      }
      if (props.target !== undefined) {
        const t = v1Table(name, props.target);
        const to = (row) => ({ [t]: [row] });
        v2.configureTargetSchema(name, { onRowUpsert: to, onRowDelete: to });
        return;
      }
      if (!fn(props.dispatch)) {
        throw new TypeError("configureSource(\"" + name + "\"): give dispatch (a function) " +
                            "or target (a table)");
      }
      const deletesTo = props.deletesTo;
      if (!fn(deletesTo) && typeof deletesTo !== "string") {
        throw new TypeError("configureSource(\"" + name + "\"): deletesTo must be a table " +
                            "or a function like dispatch");
      }
      v2.configureTargetSchema(name, {
        onRowUpsert: (row, meta) => v1Route(name, props.dispatch(row, meta)),
        onRowDelete: fn(deletesTo)
          ? (row, meta) => v1Route(name, deletesTo(row, meta))
          : (row) => ({ [v1Table(name, deletesTo)]: [row] }),
      });
    },
    configureTable(name, opts) {
      if (typeof name !== "string" || name === "") {
        throw new TypeError("configureTable: the first argument must be a table name");
      }
      opts = opts || {};
      for (const key of Object.keys(opts)) {
        if (v1Refused[key] !== undefined) {
          throw new Error("configureTable(\"" + name + "\"): " + v1Refused[key]);
        }
      }
      if (opts.rowLimit !== undefined) {
        host.log("warn", "configureTable(\"" + name + "\"): rowLimit is ignored; statements " +
                 "are sized by --flushSize and --targetMaxMessageBytes");
      }
      const ignored = Object.keys(opts.ignore || {}).filter((c) => opts.ignore[c]);
      if (opts.extras !== undefined && (typeof opts.extras !== "string" || opts.extras === "")) {
        throw new TypeError("configureTable(\"" + name + "\"): extras must name a column " +
                            "(a JSONB column for the properties the table lacks)");
      }
      // exprs: {column: "SQL"}, the SQL the target computes the written value with, $0
      // standing for the value (target::TargetColumn::expr; no $0: a constant).
      const exprs = opts.exprs === undefined ? {} : opts.exprs;
      if (typeof exprs !== "object" || exprs === null || Array.isArray(exprs) ||
          Object.keys(exprs).some((c) => typeof exprs[c] !== "string" || exprs[c] === "")) {
        throw new TypeError("configureTable(\"" + name + "\"): exprs must map column names " +
                            "to SQL expressions, with $0 for the value: {col: \"upper($0)\"}");
      }
      // Ignored columns are never written: those the target lacks are dropped where rows meet
      // the target table (as are those that go into the extras column, as one JSON object);
      // those it has are left out of the table-level handler's answer, below.
      if (opts.extras !== undefined || ignored.length > 0 || Object.keys(exprs).length > 0) {
        columnRules.set(name, { extras: opts.extras, ignore: ignored, exprs: { ...exprs } });
      }
      const rows = fn(opts.map) || ignored.length > 0 || fn(opts.deleteKey);
      if (!rows && !fn(opts.apply)) return;  // nothing for the apply workers' engines
      v2.configureTargetTables([name], {
        onRowUpsert: rows ? (row, meta) => {
          const out = fn(opts.map) ? opts.map(row, meta) : row;
          if (out === null || out === undefined) return null;
          // The handler sees the target's names; an all upper-case name (an Oracle script's
          // COLOUR) also names the column it folds to, as an unquoted name does in SQL.
          for (const c of ignored) delete out[c in out ? c : foldUpperCase(c)];
          return out;
        } : undefined,
        onRowDelete: rows ? (keys, meta) => (fn(opts.deleteKey) ? opts.deleteKey(keys, meta) : keys)
                          : undefined,
        onWrite: fn(opts.apply) ? (ops) => opts.apply(ops) : undefined,
      });
    },
    getTX() {
      const t = v2.getTX();
      return Object.freeze({ ...t, apply: (ops) => v2.write(ops) });
    },
    randomUUID() {
      // Version 4, from Math.random: unique enough for keys, not for secrets.
      const hex = (n) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
      const variant = (8 + Math.floor(Math.random() * 4)).toString(16);
      return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-" + variant + hex(3) + "-" + hex(12);
    },
    setOptions(opts) {
      const flags = Object.keys(opts || {}).map((k) => "--" + k).join(" ");
      throw new Error("setOptions(" + flags + "): flags cannot be set from the script here; " +
                      "give them on the command line");
    },
    standardMerge() {
      throw new Error("standardMerge: " + v1Refused.merge);
    },
  };
  Object.freeze(v1);

  // --- schema-level handlers in batches (script/script_stage.cc) -----------------------------
  // The stage hands the engine many row changes at once as one JSON text, so the cost of
  // crossing into the engine is paid per batch instead of per row: one flat array, each row
  // layout, kind (0 upsert, 1 delete), then its layout's values in order (a string, null, or
  // 0 for a value the source did not send). Flat, because JSON.parse then makes one array
  // per batch instead of one per row.
  // The answer is an Int32Array of codes, or null when the batch failed (the state says
  // why): the rows done, how many texts and new layouts the batch object's `s` and `l` hold
  // (s: [strings], l: [[outLayout, [names]]...], layouts not seen before), then per answer
  // row: the row's index in the batch, its table (0: the source table's, k: s[k - 1]), its
  // out layout, then one code per column of that layout: k >= 1 the row's own k-th value,
  // unchanged (so the stage writes the source's text as it came, and nothing is parsed on
  // the way back), 0 not sent (the target keeps its value), -1 null, -2 - j the text s[j].
  // Numbers in one array, so the stage reads the answer with few calls into the engine,
  // each of which takes the engine's lock. The time limit applies per row: the loop sets
  // state.at to each row's index as the row begins, and the engine's watchdog reads it and
  // counts the limit from its change (JsContext::limit_per_step).
  const kindOf = (v) => v === null ? "null" : Array.isArray(v) ? "an array"
    : typeof v === "object" ? "an object" : typeof v === "undefined" ? "undefined" : "a " + typeof v;
  // Whether an answer with these keys is {table: [rows]}: every value an array of objects.
  const isRouting = (a, keys) => {
    if (keys.length === 0) return false;
    for (const k of keys) {
      const v = a[k];
      if (!Array.isArray(v)) return false;
      for (const x of v) if (x === null || typeof x !== "object" || Array.isArray(x)) return false;
    }
    return true;
  };
  const sameNames = (a, b) => {
    if (a.length !== b.length) return false;
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
    return true;
  };
  const makeBatchStage = (onUpsert, onDelete, targetSchema) => {
    // By source layout id: {names, index (name -> column), table, schema, shape}, where shape
    // is the last answer layout seen for it: {names, lid, cols (each name's column, or -1)}.
    const inputs = [];
    const outs = new Map();  // an answer's column names, joined -> out layout id
    let nextOut = 1;
    let flat = [];
    const starts = [];  // each row's first element in flat
    let codes = new Int32Array(4096);
    let n = 0;
    const put = (x) => {
      if (n === codes.length) {
        const grown = new Int32Array(n * 2);
        grown.set(codes);
        codes = grown;
      }
      codes[n++] = x;
    };
    const state = { at: -1, kind: "", detail: "", table: "", error: undefined };
    // Texts and new layouts of the answer, filled afresh by each call (the stage reads them
    // before the next).
    const strings = [];
    const fresh = [];
    const finish = (done) => {
      codes[0] = done;
      codes[1] = strings.length;
      codes[2] = fresh.length;
      return codes.subarray(0, n);
    };
    const run = () => {
      fresh.length = 0;
      strings.length = 0;
      let tableCodes = null;  // table name -> its code, made when a row is routed
      const text = (v) => { strings.push(v); return -1 - strings.length; };
      n = 3;  // after the counts
      state.kind = "";
      state.at = 0;  // a call stopped before its first handler stopped at this row
      for (let i = 0; i < starts.length; i++) {
        const b = starts[i];
        const L = inputs[flat[b]];
        const width = L.names.length;
        const v0 = b + 2;  // the row's first value
        const row = {};
        if (L.protoAt < 0) {
          for (let c = 0; c < width; c++) {
            const v = flat[v0 + c];
            if (v !== 0) row[L.names[c]] = v;
          }
        } else {
          // A column named "__proto__": an assignment would set the row's prototype instead.
          for (let c = 0; c < width; c++) {
            const v = flat[v0 + c];
            if (v === 0) continue;
            if (c === L.protoAt) ownProperty(row, "__proto__", v);
            else row[L.names[c]] = v;
          }
        }
        const meta = { schema: targetSchema, table: L.table, sourceSchema: L.schema };
        state.at = i;
        let ans;
        try {
          ans = flat[b + 1] === 0 ? onUpsert(row, meta) : onDelete(row, meta);
        } catch (e) {
          state.kind = "throw";
          state.error = e;
          return null;
        }
        if (ans === null || ans === undefined) continue;
        if (typeof ans !== "object" || Array.isArray(ans)) {
          state.kind = "answer";
          state.detail = kindOf(ans);
          return null;
        }
        const emit = (table, obj, names) => {
          let shape = L.shape;
          if (shape === undefined || !sameNames(shape.names, names)) {
            const key = names.join("\u0000");
            let lid = outs.get(key);
            if (lid === undefined) {
              lid = nextOut++;
              outs.set(key, lid);
              fresh.push([lid, names]);
            }
            const cols = names.map((name) => {
              const c = L.index.get(name);
              return c === undefined ? -1 : c;
            });
            shape = { names, lid, cols };
            L.shape = shape;
          }
          let t = 0;
          if (table !== 0) {
            if (tableCodes === null) tableCodes = new Map();
            t = tableCodes.get(table);
            if (t === undefined) {
              strings.push(table);
              t = strings.length;
              tableCodes.set(table, t);
            }
          }
          put(i);
          put(t);
          put(shape.lid);
          for (let j = 0; j < names.length; j++) {
            const v = obj[names[j]];
            const c = shape.cols[j];
            if (c >= 0 && flat[v0 + c] !== 0 && v === flat[v0 + c]) {
              put(c + 1);
              continue;
            }
            switch (typeof v) {
              case "string": {
                // A value moved to another column (a rename): the same text as an input value.
                let k = 0;
                while (k < width && flat[v0 + k] !== v) k++;
                put(k < width ? k + 1 : text(v));
                break;
              }
              case "undefined": put(0); break;
              case "object": put(v === null ? -1 : text(JSON.stringify(v))); break;
              case "function": case "symbol":
                state.kind = "function";
                state.detail = names[j];
                state.table = table === 0 ? L.table : table;
                return false;
              default: put(text(String(v)));
            }
          }
          return true;
        };
        const keys = Object.keys(ans);
        if (isRouting(ans, keys)) {
          for (const t of keys) for (const x of ans[t]) if (!emit(t, x, Object.keys(x))) return null;
        } else if (!emit(0, ans, keys)) {
          return null;
        }
      }
      return finish(starts.length);
    };
    return {
      state,
      s: strings,
      l: fresh,
      register(id, names, table, schema) {
        const index = new Map();
        names.forEach((n, c) => index.set(n, c));
        inputs[id] = { names, index, table, schema, shape: undefined, protoAt: names.indexOf("__proto__") };
      },
      run(text) {
        state.at = -1;
        state.kind = "";
        try {
          flat = JSON.parse(text);
        } catch (e) {
          state.kind = "input";
          return null;
        }
        starts.length = 0;
        for (let p = 0; p < flat.length; p += 2 + inputs[flat[p]].names.length) starts.push(p);
        return run();
      },
    };
  };

  // --- modules: CommonJS after type stripping (sucrase turns imports into require) -------------
  const cache = new Map();  // resolved path -> module
  const makeRequire = (fromDir) => function require(spec) {
    if (spec === "replicator@v2") return v2;
    if (spec === "replicator@v1" || spec === "cdc-sink@v1") return v1;
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
    columnRules,
    runWrite,
    endWrite,
    makeBatchStage,
  };
})
