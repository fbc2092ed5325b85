#include "script/userscript.h"

#include "base/error.h"

#include "script/embedded_js.h"
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace rep::script {
namespace fs = std::filesystem;

namespace {

bool is_code(const fs::path& p) {
    std::string ext = p.extension().string();
    return ext == ".ts" || ext == ".js" || ext == ".mts" || ext == ".mjs" || ext == ".cjs";
}

// The file an import names, as Node and MOLT's loader try them.
std::optional<fs::path> find_module(const fs::path& base) {
    std::error_code ec;
    for (const fs::path& candidate :
         {base, fs::path(base.string() + ".ts"), fs::path(base.string() + ".js"), base / "index.ts",
          base / "index.js"}) {
        if (fs::is_regular_file(candidate, ec)) {
            return fs::weakly_canonical(candidate, ec);
        }
    }
    return std::nullopt;
}

}  // namespace

TypeStripper::TypeStripper() : js_(std::make_unique<JsContext>()) {
    js_->evaluate(kSucraseBundle, "replicator:sucrase.js", "loading the TypeScript compiler");
    JSValueRef sucrase = js_->get(js_->global(), "sucrase");
    strip_ = js_->as_object(js_->get(js_->as_object(sucrase), "strip"));
}

TypeStripper::~TypeStripper() = default;

std::string TypeStripper::strip(const std::string& source, const std::string& file,
                                bool typescript) {
    JsError error;
    auto out = js_->call(
        strip_,
        {js_->string(source), js_->string(file), JSValueMakeBoolean(js_->ctx(), typescript)},
        &error);
    if (!out) {
        // sucrase says "SyntaxError: Error transforming FILE: Unexpected token (12:9)".
        std::string what = error.message;
        if (size_t p = what.find(file + ": "); p != std::string::npos) {
            what = what.substr(p + file.size() + 2);
        }
        std::string where = file;
        size_t open = what.rfind(" (");
        if (open != std::string::npos && what.back() == ')') {
            where += ":" + what.substr(open + 2, what.size() - open - 3);
            what = what.substr(0, open);
        }
        throw setup_error(fmt::format("{}: syntax error: {}", where, what));
    }
    return js_->to_string(*out);
}

Userscript::Userscript(UserscriptOptions options)
    : options_(std::move(options)),
      name_(options_.path.filename().string()),
      js_(std::make_unique<JsContext>()) {
    std::error_code ec;
    fs::path main = fs::weakly_canonical(options_.path, ec);
    if (ec || !fs::is_regular_file(main, ec)) {
        throw setup_error(fmt::format("--userscript {}: no such file", options_.path.string()));
    }
    stripper_ = std::make_unique<TypeStripper>();
    JsContext& js = *js_;

    JSObjectRef host = js.object();
    js.set(host, "log", js.function("log", [this](JsContext& c, const std::vector<JSValueRef>& a) {
        std::string level = !a.empty() ? c.to_string(a[0]) : "log";
        std::string text = a.size() > 1 ? c.to_string(a[1]) : "";
        if (level == "debug") {
            spdlog::debug("{}: {}", name_, text);
        } else if (level == "trace") {
            spdlog::trace("{}: {}", name_, text);
        } else if (level == "warn") {
            spdlog::warn("{}: {}", name_, text);
        } else if (level == "error") {
            spdlog::error("{}: {}", name_, text);
        } else {
            spdlog::info("{}: {}", name_, text);
        }
        return c.undefined();
    }));
    js.set(host, "resolve",
           js.function("resolve", [this](JsContext& c, const std::vector<JSValueRef>& a) {
               std::string spec = !a.empty() ? c.to_string(a[0]) : "";
               std::string from = a.size() > 1 ? c.to_string(a[1]) : "";
               if (!stripper_) {
                   throw fatal(
                       fmt::format("import \"{}\": imports are resolved only while the "
                                   "userscript loads",
                                   spec));
               }
               fs::path base =
                   (from.empty() ? fs::path(spec) : fs::path(from) / spec).lexically_normal();
               std::optional<fs::path> file = find_module(base);
               if (!file) {
                   throw fatal(
                       fmt::format("cannot find module \"{}\" (looked for {} and {}.ts, "
                                   ".js, /index.ts, /index.js)",
                                   spec, base.string(), base.string()));
               }
               JSObjectRef found = c.object();
               c.set(found, "path", c.string(file->string()));
               c.set(found, "dir", c.string(file->parent_path().string()));
               std::string source = load_source(*file);
               if (!is_code(*file)) {
                   JSValueRef text = c.string(source);
                   if (file->extension() == ".json") {
                       JsString json(source);
                       text = JSValueMakeFromJSONString(c.ctx(), json.get());
                       if (text == nullptr) {
                           throw fatal(fmt::format("{} is not valid JSON", file->string()));
                       }
                   }
                   c.set(found, "text", text);
               } else {
                   bool ts = file->extension() == ".ts" || file->extension() == ".mts";
                   c.set(found, "code", c.string(stripper_->strip(source, file->string(), ts)));
               }
               return static_cast<JSValueRef>(found);
           }));
    js.set(host, "compile",
           js.function("compile", [](JsContext& c, const std::vector<JSValueRef>& a) {
               std::string code = !a.empty() ? c.to_string(a[0]) : "";
               std::string path = a.size() > 1 ? c.to_string(a[1]) : "";
               // On the script's first line, so line numbers stay the file's own.
               return c.evaluate("(function (exports, require, module) {" + code + "\n})", path,
                                 "compiling " + path);
           }));

    JSValueRef prelude = js.evaluate(kPrelude, "replicator:prelude.js", "loading the prelude");
    JsError error;
    auto made = js.call(js.as_object(prelude), {host}, &error);
    if (!made) {
        throw fatal("userscript prelude: " + error.describe());
    }
    exports_ = js.as_object(*made);
    JSValueProtect(js.ctx(), exports_);

    js.set_time_limit(options_.call_limit);
    auto ran = js.call(js.as_object(js.get(exports_, "main")), {js.string(main.string())}, &error);
    stripper_.reset();  // the compiler's context is not needed any more; no more imports
    if (!ran) {
        throw setup_error(
            fmt::format("--userscript {}: {}", options_.path.string(), error.describe()));
    }
}

Userscript::~Userscript() {
    if (exports_ != nullptr) {
        JSValueUnprotect(js_->ctx(), exports_);
    }
}

std::string Userscript::load_source(const fs::path& file) const {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw fatal(fmt::format("cannot read {}", file.string()));
    }
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

Userscript::SchemaHandlers Userscript::schema_handlers(const std::string& target_schema) const {
    JsContext& js = *js_;
    JSObjectRef schemas = js.as_object(js.get(exports_, "schemas"));
    JSObjectRef get = js.as_object(js.get(schemas, "get"));
    auto entry = js.call(get, {js.string(target_schema)}, nullptr, schemas);
    if (!entry || !js.is_object(*entry)) {
        return {};
    }
    JSObjectRef h = js.as_object(*entry);
    return {js.as_object(js.get(h, "onRowUpsert")), js.as_object(js.get(h, "onRowDelete"))};
}

std::vector<std::string> Userscript::configured_schemas() const {
    JsContext& js = *js_;
    JsError error;
    JSValueRef list =
        js.evaluate("(m) => Array.from(m.keys())", "replicator:schemas.js", "listing schemas");
    auto keys = js.call(js.as_object(list), {js.get(exports_, "schemas")}, &error);
    std::vector<std::string> out;
    if (keys && js.is_array(*keys)) {
        JSObjectRef arr = js.as_object(*keys);
        for (const std::string& i : js.keys(arr)) {
            out.push_back(js.to_string(js.get(arr, i)));
        }
    }
    return out;
}

bool Userscript::has_table_handlers() const {
    JsContext& js = *js_;
    JSObjectRef tables = js.as_object(js.get(exports_, "tables"));
    return js.to_string(js.get(tables, "size")) != "0";
}

}  // namespace rep::script
