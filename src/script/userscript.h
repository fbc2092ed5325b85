#pragma once

#include "script/js_context.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace rep::script {

// Strips TypeScript types and turns import/export into require()/exports, keeping line
// numbers, with the sucrase bundle in a context of its own. Throws rep::Error (setup_error)
// naming `file` and the position of a syntax error.
class TypeStripper {
public:
    TypeStripper();
    ~TypeStripper();
    std::string strip(const std::string& source, const std::string& file, bool typescript);

private:
    std::unique_ptr<JsContext> js_;
    JSObjectRef strip_ = nullptr;
};

struct UserscriptOptions {
    std::filesystem::path path;  // --userscript
    // Longest one handler call may run (and the script's top level while loading).
    std::chrono::milliseconds call_limit{10000};
};

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
    // Whether configureTargetTables registered anything (not applied yet: see docs).
    bool has_table_handlers() const;

private:
    std::string load_source(const std::filesystem::path& file) const;

    UserscriptOptions options_;
    std::string name_;
    std::unique_ptr<JsContext> js_;
    JSObjectRef exports_ = nullptr;  // what the prelude returned (protected from GC)
    // While the script loads: imports are resolved (and type-stripped) only then.
    std::unique_ptr<TypeStripper> stripper_;
};

}  // namespace rep::script
