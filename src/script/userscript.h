#pragma once

#include "core/table_name.h"
#include "target/table_mapping.h"

#include "script/js_context.h"
#include "script/source_map.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace rep::script {

// Strips TypeScript types and turns import/export into require()/exports, keeping line
// numbers, with the sucrase bundle in a context of its own. Throws rep::Error (setup_error)
// naming `file` and the position of a syntax error.
class TypeStripper {
public:
    TypeStripper();
    ~TypeStripper();
    struct Stripped {
        std::string code;
        std::string mappings;  // the source map's (source_map.h)
    };
    Stripped strip(const std::string& source, const std::string& file, bool typescript);

private:
    std::unique_ptr<JsContext> js_;
    JSObjectRef strip_ = nullptr;
};

// The files a script's first load read, type-stripped, by the import that named them: later
// loads of the same script (one per apply worker) run the very same code, without touching
// the file system or the compiler again. Thread-safe.
class ModuleCache {
public:
    struct Module {
        std::string path;  // canonical
        std::string dir;
        bool code = false;  // stripped JavaScript; else a text (or JSON) import
        std::string content;
        std::shared_ptr<const SourceMap> map;  // of stripped code: back to the user's file
    };
    std::optional<Module> find(const std::string& from, const std::string& spec) const;
    void add(const std::string& from, const std::string& spec, Module module);

private:
    mutable std::mutex mu_;
    std::map<std::pair<std::string, std::string>, Module> modules_;
};

struct UserscriptOptions {
    std::filesystem::path path;  // --userscript
    // Longest one handler call may run (and the script's top level while loading).
    std::chrono::milliseconds call_limit{10000};
    // Largest the engine's heap may grow while a call runs.
    size_t memory_limit = size_t{256} << 20;
    // Filled by the first load, read by later ones (null: no sharing).
    std::shared_ptr<ModuleCache> modules;
    // A later load of a script loaded before: its top level's console output was shown then.
    bool reload = false;
    // Native functions added to the prelude's `host` (the apply side's transaction access).
    std::map<std::string, JsContext::Native> natives;
};

// Which of `configured` (table names a script gave configureTargetTables or configureTable)
// names target table `table`: its bare name, schema.table, <target_schema>.table or
// database.schema.table, else a name all in upper case that folds to one of those (MOLT's
// Oracle scripts name EMPLOYEES for the target's employees, as an unquoted name does in SQL;
// a script's "orders" never serves a table "Orders"); "" if none does.
std::string configured_name_for(const std::vector<std::string>& configured, const TableName& table,
                                const std::string& target_schema);

// A loaded `--userscript`: TypeScript (or JavaScript) run in its own JavaScriptCore context.
// Loading strips the types (sucrase, embedded at build time; no Node at run time), turns ES
// module syntax into require() calls, and runs the script, which registers its handlers
// through `import * as api from "replicator@v2"`. Imports resolve relative to the importing
// file, while the script loads only: "replicator@v2", relative paths and bare sibling names
// (tried as given, then with .ts, .js, /index.ts, /index.js); a file of any other extension
// is imported as its text (.json as its parsed value). Not thread-safe: one thread calls it.
class Userscript {
public:
    // Throws rep::Error (setup_error) naming the file, line and column of a syntax error or of
    // an exception thrown while loading, or a missing import.
    explicit Userscript(UserscriptOptions options);
    ~Userscript();
    Userscript(const Userscript&) = delete;
    Userscript& operator=(const Userscript&) = delete;

    JsContext& js() { return *js_; }
    const std::string& name() const { return name_; }  // the script's file name, for messages

    // The configureTargetSchema handlers registered for `target_schema` (exactly as given on
    // the command line), or nullptrs.
    struct SchemaHandlers {
        JSObjectRef on_upsert = nullptr;
        JSObjectRef on_delete = nullptr;
    };
    SchemaHandlers schema_handlers(const std::string& target_schema) const;
    // Schemas the script configured (for the check that one of them is --targetSchema).
    std::vector<std::string> configured_schemas() const;
    // Whether configureTargetTables registered anything.
    bool has_table_handlers() const;
    // The names configureTargetTables was given, as given.
    std::vector<std::string> configured_tables() const;
    // Those and the tables that API v1's configureTable gave only column rules (ignore,
    // extras): every table the script configures.
    std::vector<std::string> configured_table_names() const;
    // The configureTargetTables handlers registered under `name` (exactly as given to it);
    // nullptr for a handler left out; nullopt if none are.
    struct TableHandlers {
        JSObjectRef on_upsert = nullptr;
        JSObjectRef on_delete = nullptr;
        JSObjectRef on_write = nullptr;
    };
    std::optional<TableHandlers> table_handlers(const std::string& name) const;
    // What API v1's configureTable said about columns (ignore, extras), by the name it was
    // given. Plain data, read when called: for the catalog, which any thread uses.
    std::map<std::string, target::ColumnRules> column_rules() const;
    // The prelude's exports: runWrite/endWrite (apply_handlers.cc).
    JSObjectRef exports() const { return exports_; }

private:
    std::string load_source(const std::filesystem::path& file) const;
    // The module `spec` names from directory `from`, from the cache or the file system.
    ModuleCache::Module resolve(const std::string& spec, const std::string& from);
    std::vector<std::string> map_keys(const char* which) const;

    UserscriptOptions options_;
    std::string name_;
    std::unique_ptr<JsContext> js_;
    JSObjectRef exports_ = nullptr;  // what the prelude returned (protected from GC)
    // While the script loads: imports are resolved (and type-stripped) only then.
    std::unique_ptr<TypeStripper> stripper_;
    bool loading_ = true;
    // The maps of the code modules this load ran, by path: error positions in the user's files.
    SourceMaps maps_;
};

}  // namespace rep::script
