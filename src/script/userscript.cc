#include "script/userscript.h"

#include "base/error.h"

#include "script/embedded_js.h"
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
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

// What compile() wraps a module's code in, on its first line.
constexpr std::string_view kModuleWrapper = "(function (exports, require, module) {";

}  // namespace

TypeStripper::TypeStripper() : js_(std::make_unique<JsContext>()) {
    js_->evaluate(kSucraseBundle, "replicator:sucrase.js", "loading the TypeScript compiler");
    JSValueRef sucrase = js_->get(js_->global(), "sucrase");
    strip_ = js_->as_object(js_->get(js_->as_object(sucrase), "strip"));
}

TypeStripper::~TypeStripper() = default;

TypeStripper::Stripped TypeStripper::strip(const std::string& source, const std::string& file,
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
            where += ':';
            where.append(what, open + 2, what.size() - open - 3);
            what = what.substr(0, open);
        }
        throw setup_error(fmt::format("{}: syntax error: {}", where, what));
    }
    JSObjectRef result = js_->as_object(*out);
    return Stripped{js_->to_string(js_->get(result, "code")),
                    js_->to_string(js_->get(result, "mappings"))};
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
    JsContext& js = *js_;
    // Error positions are the user's: through the source maps, less the wrapper compile() puts
    // on the first line.
    js.set_locator([this](const std::string& where) {
        return original_location(where, maps_, static_cast<int>(kModuleWrapper.size()));
    });

    JSObjectRef host = js.object();
    js.set(host, "log", js.function("log", [this](JsContext& c, const std::vector<JSValueRef>& a) {
        if (loading_ && options_.reload) {
            return c.undefined();  // shown by the first load already
        }
        std::string level = !a.empty() ? c.to_text(a[0]) : "log";
        std::string text = a.size() > 1 ? c.to_text(a[1]) : "";
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
               ModuleCache::Module m = resolve(spec, from);
               JSObjectRef found = c.object();
               c.set(found, "path", c.string(m.path));
               c.set(found, "dir", c.string(m.dir));
               if (m.code) {
                   c.set(found, "code", c.string(m.content));
               } else if (fs::path(m.path).extension() == ".json") {
                   JsString json(m.content);
                   JSValueRef parsed = JSValueMakeFromJSONString(c.ctx(), json.get());
                   if (parsed == nullptr) {
                       throw fatal(fmt::format("{} is not valid JSON", m.path));
                   }
                   c.set(found, "text", parsed);
               } else {
                   c.set(found, "text", c.string(m.content));
               }
               return static_cast<JSValueRef>(found);
           }));
    for (auto& [name, native] : options_.natives) {
        js.set(host, name, js.function(name, native));
    }
    js.set(host, "compile",
           js.function("compile", [](JsContext& c, const std::vector<JSValueRef>& a) {
               std::string code = !a.empty() ? c.to_string(a[0]) : "";
               std::string path = a.size() > 1 ? c.to_string(a[1]) : "";
               // On the script's first line, so line numbers stay the file's own.
               return c.evaluate(std::string(kModuleWrapper) + code + "\n})", path,
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

    js.set_limits(options_.call_limit, options_.memory_limit);
    auto ran = js.call(js.as_object(js.get(exports_, "main")), {js.string(main.string())}, &error);
    stripper_.reset();  // the compiler's context is not needed any more; no more imports
    loading_ = false;
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

std::optional<ModuleCache::Module> ModuleCache::find(const std::string& from,
                                                     const std::string& spec) const {
    std::lock_guard lock(mu_);
    auto it = modules_.find({from, spec});
    if (it == modules_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void ModuleCache::add(const std::string& from, const std::string& spec, Module module) {
    std::lock_guard lock(mu_);
    modules_.emplace(std::make_pair(from, spec), std::move(module));
}

ModuleCache::Module Userscript::resolve(const std::string& spec, const std::string& from) {
    if (!loading_) {
        throw fatal(fmt::format(
            "import \"{}\": imports are resolved only while the userscript loads", spec));
    }
    if (options_.modules) {
        if (auto cached = options_.modules->find(from, spec)) {
            if (cached->map) {
                maps_[cached->path] = cached->map;
            }
            return *cached;
        }
    }
    fs::path base = (from.empty() ? fs::path(spec) : fs::path(from) / spec).lexically_normal();
    std::optional<fs::path> file = find_module(base);
    if (!file) {
        throw fatal(fmt::format(
            "cannot find module \"{}\" (looked for {} and {}.ts, .js, /index.ts, /index.js)", spec,
            base.string(), base.string()));
    }
    ModuleCache::Module m;
    m.path = file->string();
    m.dir = file->parent_path().string();
    m.content = load_source(*file);
    m.code = is_code(*file);
    if (m.code) {
        if (!stripper_) {
            stripper_ = std::make_unique<TypeStripper>();
        }
        bool ts = file->extension() == ".ts" || file->extension() == ".mts";
        TypeStripper::Stripped stripped = stripper_->strip(m.content, m.path, ts);
        m.content = std::move(stripped.code);
        m.map = std::make_shared<const SourceMap>(stripped.mappings);
        maps_[m.path] = m.map;
    }
    if (options_.modules) {
        options_.modules->add(from, spec, m);
    }
    return m;
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
    return map_keys("schemas");
}

std::vector<std::string> Userscript::map_keys(const char* which) const {
    JsContext& js = *js_;
    JsError error;
    JSValueRef list =
        js.evaluate("(m) => Array.from(m.keys())", "replicator:keys.js", "listing handlers");
    auto keys = js.call(js.as_object(list), {js.get(exports_, which)}, &error);
    std::vector<std::string> out;
    if (keys && js.is_array(*keys)) {
        JSObjectRef arr = js.as_object(*keys);
        for (const std::string& i : js.keys(arr)) {
            out.push_back(js.to_string(js.get(arr, i)));
        }
    }
    return out;
}

std::vector<std::string> Userscript::configured_tables() const {
    return map_keys("tables");
}

std::optional<Userscript::TableHandlers> Userscript::table_handlers(const std::string& name) const {
    JsContext& js = *js_;
    JSObjectRef tables = js.as_object(js.get(exports_, "tables"));
    JSObjectRef get = js.as_object(js.get(tables, "get"));
    auto entry = js.call(get, {js.string(name)}, nullptr, tables);
    if (!entry || !js.is_object(*entry)) {
        return std::nullopt;
    }
    JSObjectRef h = js.as_object(*entry);
    auto handler = [&](const char* key) {
        JSValueRef v = js.get(h, key);
        return js.is_function(v) ? js.as_object(v) : nullptr;
    };
    return TableHandlers{handler("onRowUpsert"), handler("onRowDelete"), handler("onWrite")};
}

std::vector<std::string> Userscript::configured_table_names() const {
    std::vector<std::string> names = configured_tables();
    for (const std::string& name : map_keys("columnRules")) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(name);
        }
    }
    return names;
}

std::map<std::string, target::ColumnRules> Userscript::column_rules() const {
    JsContext& js = *js_;
    JSObjectRef rules = js.as_object(js.get(exports_, "columnRules"));
    JSObjectRef get = js.as_object(js.get(rules, "get"));
    std::map<std::string, target::ColumnRules> out;
    for (const std::string& name : map_keys("columnRules")) {
        auto entry = js.call(get, {js.string(name)}, nullptr, rules);
        if (!entry || !js.is_object(*entry)) {
            continue;
        }
        JSObjectRef e = js.as_object(*entry);
        target::ColumnRules r;
        JSValueRef extras = js.get(e, "extras");
        if (JSValueIsString(js.ctx(), extras)) {
            r.extras = js.to_string(extras);
        }
        JSObjectRef ignore = js.as_object(js.get(e, "ignore"));
        for (size_t i = 0, n = js.length(ignore); i < n; ++i) {
            r.ignore.push_back(js.to_string(js.at(ignore, static_cast<unsigned>(i))));
        }
        JSObjectRef exprs = js.as_object(js.get(e, "exprs"));
        for (const std::string& column : js.keys(exprs)) {
            r.exprs.emplace(column, js.to_string(js.get(exprs, column)));
        }
        out.emplace(name, std::move(r));
    }
    return out;
}

std::string configured_name_for(const std::vector<std::string>& configured, const TableName& table,
                                const std::string& target_schema) {
    std::vector<std::string> candidates = {table.table, table.schema.schema + "." + table.table,
                                           target_schema + "." + table.table};
    if (!table.schema.database.empty()) {
        candidates.push_back(table.schema.database + "." + table.schema.schema + "." + table.table);
    }
    for (const std::string& name : candidates) {
        if (std::find(configured.begin(), configured.end(), name) != configured.end()) {
            return name;
        }
    }
    for (const std::string& c : configured) {
        for (const std::string& name : candidates) {
            if (c != name && fold_upper_case(c) == name) {
                return c;
            }
        }
    }
    return {};
}

bool Userscript::has_table_handlers() const {
    JsContext& js = *js_;
    JSObjectRef tables = js.as_object(js.get(exports_, "tables"));
    return js.to_string(js.get(tables, "size")) != "0";
}

}  // namespace rep::script
