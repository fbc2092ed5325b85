// ApplyHandlers' onWrite: the handler call and the host functions behind api.write() and
// getTX(), which act on the apply worker's open target transaction.

#include "base/error.h"
#include "core/table_name.h"

#include "script/apply_handlers.h"
#include "script/values.h"
#include "script/write_ops.h"
#include <fmt/format.h>

#include <chrono>

namespace rep::script {
namespace {

// Time a host function spends waiting for the target is the target's, not the script's: it
// does not count against the handler's time limit (a slow or locked target is retried as
// such, not reported as a script that ran too long).
class TargetWait {
public:
    explicit TargetWait(JsContext& js) : js_(js), started_(std::chrono::steady_clock::now()) {}
    ~TargetWait() { js_.exclude_from_limit(std::chrono::steady_clock::now() - started_); }
    TargetWait(const TargetWait&) = delete;
    TargetWait& operator=(const TargetWait&) = delete;

private:
    JsContext& js_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace

void ApplyHandlers::on_write(std::vector<target::Segment>& segments, Transaction& tx) {
    Table& t = table(segments.front().mapping->target());
    Userscript& us = script();
    JsContext& js = us.js();
    JSObjectRef ops = row_ops(js, segments, t.names, t.proto_at, meta(t));
    writing_ = Writing{&tx, segments.front().mapping, &t, std::nullopt};
    JsError error;
    auto started = std::chrono::steady_clock::now();
    js.take_terminated();
    // runWrite (prelude.js) calls the handler and follows its promise; the engine runs the
    // promise's reactions before the call returns.
    auto state = js.call(js.as_object(js.get(us.exports(), "runWrite")),
                         {t.handlers->on_write, ops}, &error);
    js.call(js.as_object(js.get(us.exports(), "endWrite")), {}, nullptr);
    Writing done = std::move(writing_);
    writing_ = Writing{};
    bool finished = state && JSValueToBoolean(js.ctx(), js.get(js.as_object(*state), "done"));
    bool failed = !state || JSValueToBoolean(js.ctx(), js.get(js.as_object(*state), "failed"));
    if (options_.probe != nullptr) {
        options_.probe->script_call(
            t.on_write,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
            failed || !finished ? metrics::Probe::ScriptOutcome::kError
                                : metrics::Probe::ScriptOutcome::kProcessed);
    }
    if (state && !finished && js.take_terminated()) {
        throw fatal(
            fmt::format("--userscript {}: onWrite for table {} failed: {}; nothing of this source "
                        "transaction was applied",
                        us.name(), t.display, js.stop_message()));
    }
    if (state && !finished) {
        throw fatal(fmt::format(
            "--userscript {}: onWrite for table {} did not finish: it awaits something that "
            "never settles (only getTX().query(), getTX().exec() and api.write() can be "
            "awaited); nothing of this source transaction was applied",
            us.name(), t.display));
    }
    if (failed) {
        if (state) {
            error = js.error_from(js.get(js.as_object(*state), "error"));
        }
        // A target error the script let through: a lost connection or a serialization
        // failure is retried as any other apply error, with the handler run again.
        if (done.retryable_error) {
            throw *done.retryable_error;
        }
        std::string sqlstate;
        if (done.target_error &&
            error.message.find(done.target_error->what()) != std::string::npos) {
            sqlstate = done.target_error->sqlstate();
        }
        throw Error(ErrorKind::kFatal,
                    fmt::format("--userscript {}: onWrite for table {} failed: {}; nothing of "
                                "this source transaction was applied",
                                us.name(), t.display, error.describe()),
                    sqlstate);
    }
    if (done.retryable_error && !tx.session().in_transaction()) {
        throw *done.retryable_error;  // caught and ignored, but the transaction is gone
    }
}

std::map<std::string, JsContext::Native> ApplyHandlers::natives() {
    using Args = const std::vector<JSValueRef>&;
    return {
        {"txQuery", [this](JsContext& js, Args a) { return tx_query(js, a, true); }},
        {"txExec", [this](JsContext& js, Args a) { return tx_query(js, a, false); }},
        {"txWrite", [this](JsContext& js, Args a) { return tx_write(js, a); }},
        {"txColumns", [this](JsContext& js, Args) { return tx_columns(js); }},
        {"txSchema",
         [this](JsContext& js, Args) {
             const SchemaRef& s = writing("getTX().schema()").mapping->target().name.schema;
             bool db = options_.dialect->qualify_database() && !s.database.empty();
             return js.string(db ? quote_ident(s.database) + "." + quote_ident(s.schema)
                                 : quote_ident(s.schema));
         }},
        {"txTable",
         [this](JsContext& js, Args) {
             const TableName& n = writing("getTX().table()").mapping->target().name;
             return js.string(n.sql(options_.dialect->qualify_database()));
         }},
    };
}

ApplyHandlers::Writing& ApplyHandlers::writing(const char* what) {
    if (writing_.tx == nullptr) {
        throw fatal(fmt::format("{} is only available inside an onWrite handler", what));
    }
    return writing_;
}

JSValueRef ApplyHandlers::tx_query(JsContext& js, const std::vector<JSValueRef>& args, bool rows) {
    Writing& w = writing(rows ? "getTX().query()" : "getTX().exec()");
    std::string sql = !args.empty() ? js.to_string(args[0]) : "";
    util::TargetSession::Params params;
    if (args.size() > 1 && js.is_array(args[1])) {
        JSObjectRef list = js.as_object(args[1]);
        for (const std::string& i : js.keys(list)) {
            std::optional<Datum> d = datum_of(js, js.get(list, i));
            if (!d || d->absent() || d->is_null()) {
                params.emplace_back(std::nullopt);  // undefined binds as NULL too
            } else {
                params.emplace_back(std::move(d->text));
            }
        }
    }
    TargetWait wait(js);
    try {
        util::TargetSession& session = w.tx->session();
        if (!rows) {
            session.execute(sql, params);
            return js.undefined();
        }
        JsArrayBuilder out(js.ctx());
        for (const util::TargetSession::Row& r : session.query(sql, params)) {
            JsArrayBuilder values(js.ctx());
            for (const auto& v : r) {
                values.push_back(v ? handler_value(js, Datum::value(*v),
                                                   [] {
                                                       return std::string(
                                                           "a value the target returned to "
                                                           "getTX().query");
                                                   })
                                   : js.null());
            }
            out.push_back(values.get());
        }
        return out.get();
    } catch (const Error& e) {
        w.target_error = e;
        if (e.retryable() && !w.retryable_error) {
            w.retryable_error = e;
        }
        throw;
    }
}

JSValueRef ApplyHandlers::tx_write(JsContext& js, const std::vector<JSValueRef>& args) {
    Writing& w = writing("api.write()");
    auto rows = rows_of_ops(js, !args.empty() ? args[0] : js.undefined(), w.mapping->target(),
                            w.table->index);
    TargetWait wait(js);
    try {
        w.tx->write(w.mapping, std::move(rows));
    } catch (const Error& e) {
        w.target_error = e;
        if (e.retryable() && !w.retryable_error) {
            w.retryable_error = e;
        }
        throw;
    }
    return js.undefined();
}

JSValueRef ApplyHandlers::tx_columns(JsContext& js) {
    const target::TargetTable& t = writing("getTX().columns()").mapping->target();
    std::vector<size_t> order = t.pk;  // key columns first, in key order
    for (size_t i = 0; i < t.columns.size(); ++i) {
        if (t.columns[i].pk_position == 0) {
            order.push_back(i);
        }
    }
    JsArrayBuilder out(js.ctx());
    for (size_t i : order) {
        const target::TargetColumn& c = t.columns[i];
        JSObjectRef col = js.object();
        js.set(col, "name", js.string(c.name));
        std::string type = c.cast_type.substr(0, c.cast_type.find(" COLLATE "));
        js.set(col, "type", js.string(type));
        js.set(col, "primary", JSValueMakeBoolean(js.ctx(), c.pk_position > 0));
        js.set(col, "ignored", JSValueMakeBoolean(js.ctx(), c.generated));
        out.push_back(col);
    }
    return out.get();
}

}  // namespace rep::script
