// The simulated Oracle as a process: a TCP server on 127.0.0.1 speaking wire.h's protocol.
// Sessions (through the stand-in OCI library) log in with the password "secret" to any
// service (its name is the session's container name; ORCLPDB1 is the PDB's) and run
// exactly the statements of src/source/oracle/logminer_sql.h, each on its own LogMiner
// session over the one simulated database; any other statement is ORA-00900, so a change in
// what the replicator sends is noticed. Control clients (tests) drive the workload:
//
//   setup {seed, threads, record_states = true, csf_limit = 60}
//                           a new database with the workload's tables; states (below) kept
//                           or not; SQL_REDO split into continuation rows of at most
//                           csf_limit bytes (Oracle's is 4000)
//   step {n}                n random workload steps
//   finish {heartbeats}     end all transactions (and commit on every thread, by default)
//   tick                    the SCN moves with no redo     purge {below}
//   state                   {"state": committed APP rows}  state_after {xid}
//   states                  {"states": [every state APP has had after a commit]}
//   history {needle}        {"records": [redo mentioning needle, commits, rollbacks]}
//   snapshot                {"rows": {table: [[hex|null..]]}, "columns": {table: [..]}}
//   open_first_scns         {"scns": {xid: scn}}           current_scn   threads
//   faults {fail_after_rows, missing_scn}   for the next contents query of any session
//   delay {ms}              every contents query takes this long from now on
//   large {rows, width}     one transaction inserting `rows` rows of `width` bytes into APP.T2
//                           (keys L0000000...), a log switch every 2000 rows, then its commit
//   cut {n}                 the next n contents queries (any session) close their
//                           connection instead of answering: a network cut mid-window
//
// Usage: oracle_sim_server [PORT]; prints "PORT <n>" once listening (0: any free port).

#include "base/error.h"
#include "source/oracle/logminer_sql.h"

#include "sim_database.h"
#include "sim_logminer.h"
#include "sim_workload.h"
#include "wire.h"
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <set>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using json = nlohmann::json;
namespace wire = rep::oracle::sim::wire;
namespace sim = rep::oracle::sim;
namespace sql = rep::oracle::sql;

std::mutex g_mutex;
std::unique_ptr<sim::Database> g_db;
std::unique_ptr<sim::Workload> g_workload;
sim::Faults g_faults;
uint64_t g_seed = 1;
size_t g_csf_limit = 60;
std::atomic<int> g_delay_ms{0};  // contents queries take this long (control: delay)
std::atomic<int> g_cuts{0};      // contents queries still to answer by a cut (control: cut)

json error(int code, const std::string& message) {
    return {{"code", code}, {"error", message}};
}

// An error thrown by the simulation, as Oracle would report it.
json error_from(const std::exception& e) {
    std::string what = e.what();
    int code = 600;
    if (what.rfind("ORA-", 0) == 0) {
        code = std::stoi(what.substr(4, 5));
    } else {
        what = "ORA-00600: internal error code, arguments: [" + what + "]";
    }
    return error(code, what);
}

json cell(const std::optional<std::string>& v) {
    return v ? json(wire::to_hex(*v)) : json(nullptr);
}

json text_row(std::initializer_list<std::string> values) {
    json row = json::array();
    for (const std::string& v : values) {
        row.push_back(wire::to_hex(v));
    }
    return row;
}

json log_rows(const std::vector<rep::oracle::LogFile>& logs, bool archived) {
    json rows = json::array();
    for (const rep::oracle::LogFile& f : logs) {
        std::string status =
            archived ? (f.deleted ? "D" : "A") : (f.current ? "CURRENT" : "ACTIVE");
        // The CURRENT log's NEXT_CHANGE# is Oracle's huge sentinel.
        std::string next = f.current ? "281474976710655" : std::to_string(f.next_scn);
        rows.push_back(text_row({f.name, std::to_string(f.thread), std::to_string(f.sequence),
                                 std::to_string(f.first_scn), next, status}));
    }
    return rows;
}

uint64_t number(const std::string& hex) {
    return std::stoull(wire::from_hex(hex));
}

json exec(sim::SimLogMiner& miner, const std::string& service, const std::string& text,
          const json& binds) {
    auto bind = [&](size_t i) { return wire::from_hex(binds.at(i).get<std::string>()); };
    for (const std::string& s : sql::session_setup()) {
        if (text == s) {
            return json::object();
        }
    }
    if (text == sql::current_scn()) {
        return {{"rows", {text_row({std::to_string(g_db->current_scn())})}}};
    }
    if (text == sql::threads()) {
        json rows = json::array();
        for (const rep::oracle::RedoThread& t : g_db->threads()) {
            rows.push_back(
                text_row({std::to_string(t.thread), t.open ? "OPEN" : "CLOSED",
                          t.enabled ? "PUBLIC" : "DISABLED", std::to_string(t.enabled_scn),
                          std::to_string(t.last_redo_scn)}));
        }
        return {{"rows", rows}};
    }
    if (text == sql::online_logs()) {
        return {
            {"rows", log_rows(miner.online_logs(number(binds.at(0)), number(binds.at(1))), false)}};
    }
    if (text == sql::archived_logs()) {
        return {{"rows",
                 log_rows(miner.archived_logs(number(binds.at(0)), number(binds.at(1))), true)}};
    }
    if (text == sql::add_logfile(true) || text == sql::add_logfile(false)) {
        miner.add_logfile(bind(0), text == sql::add_logfile(true));
        return json::object();
    }
    if (text == sql::session_logs()) {
        json rows = json::array();
        for (const rep::oracle::LogFile& f : miner.session_logs()) {
            rows.push_back(text_row({f.name, std::to_string(f.thread), std::to_string(f.sequence),
                                     std::to_string(f.first_scn), std::to_string(f.next_scn)}));
        }
        return {{"rows", rows}};
    }
    if (text == sql::start_logminer()) {
        miner.start(number(binds.at(0)), number(binds.at(1)));
        return json::object();
    }
    if (text == sql::end_logminer()) {
        miner.end();
        return json::object();
    }
    if (text == sql::contents(false) || text == sql::contents(true)) {
        rep::oracle::ContentsQuery q{number(binds.at(0)), number(binds.at(1)), bind(2),
                                     std::nullopt};
        if (binds.size() > 3) {
            q.pdb = bind(3);
        }
        miner.faults() = std::exchange(g_faults, sim::Faults{});
        std::unique_ptr<rep::oracle::ContentsCursor> cursor = miner.contents(q);
        std::vector<rep::oracle::ContentsRow> rows;
        try {
            while (cursor->fetch(rows, 1000)) {
            }
        } catch (const std::exception& e) {
            // The simulated fault hits the query as a whole: a real cursor would fail in the
            // middle of a fetch, which the reader handles the same way.
            return error_from(e);
        }
        json out = json::array();
        for (const rep::oracle::ContentsRow& r : rows) {
            out.push_back(
                json::array({cell(std::to_string(r.scn)), cell(r.xid), cell(std::to_string(r.op)),
                             cell(r.csf ? "1" : "0"), cell(r.rollback ? "1" : "0"),
                             cell(std::to_string(r.status)), cell(std::to_string(r.thread)),
                             cell(r.seg_owner), cell(r.table), cell(r.row_id), cell(r.rs_id),
                             cell(std::to_string(r.ssn)), cell(r.timestamp), cell(r.src_con_name),
                             r.info.empty() ? json(nullptr) : cell(r.info),
                             r.sql_redo.empty() ? json(nullptr) : cell(r.sql_redo)}));
        }
        return {{"rows", out}};
    }
    if (text == sql::database_settings()) {
        return {{"rows", {text_row({"ARCHIVELOG", "YES", "YES", "YES", "YES"})}}};
    }
    if (text == sql::oldest_open_transaction(binds.size())) {
        // Every simulated transaction is a session of user APP.
        bool listed = binds.empty();
        for (size_t i = 0; i < binds.size(); ++i) {
            listed = listed || bind(i) == "APP";
        }
        std::optional<uint64_t> oldest;
        for (const auto& [xid, scn] : g_db->open_first_scns()) {
            oldest = std::min(oldest.value_or(scn), scn);
        }
        if (!listed || !oldest) {
            return {{"rows", json::array({json::array({nullptr})})}};
        }
        return {{"rows", {text_row({std::to_string(*oldest)})}}};
    }
    if (text == sql::database_time()) {
        int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
        return {{"rows", {text_row({sim::db_time_text(now)})}}};
    }
    if (text == sql::container_name()) {
        return {{"rows", {text_row({service})}}};
    }
    if (text == sql::sentinel_merge("APP")) {
        g_db->sentinel_beat("APP", bind(0));
        return json::object();
    }
    if (text == sql::table_columns() || text == sql::primary_keys()) {
        json rows = json::array();
        for (const sim::Table* t : g_db->tables(bind(0), true)) {
            for (size_t i = 0; i < t->columns.size(); ++i) {
                if (text == sql::table_columns()) {
                    rows.push_back(text_row({t->name, t->columns[i], "VARCHAR2"}));
                } else if (i == 0) {
                    rows.push_back(text_row({t->name, t->columns[i]}));
                }
            }
        }
        return {{"rows", rows}};
    }
    return error(900, "ORA-00900: invalid SQL statement");
}

json control(const json& request) {
    std::string cmd = request.at("cmd");
    if (cmd == "setup") {
        g_seed = request.value("seed", uint64_t{1});
        int threads = request.value("threads", 1);
        g_db = std::make_unique<sim::Database>(g_seed, threads);
        g_db->set_record_states(request.value("record_states", true));
        g_csf_limit = request.value("csf_limit", size_t{60});
        sim::Workload::create_tables(*g_db);
        g_workload = std::make_unique<sim::Workload>(*g_db, g_seed, threads);
        return json::object();
    }
    if (!g_db) {
        return error(1034, "ORA-01034: ORACLE not available (no setup yet)");
    }
    if (cmd == "step") {
        for (int i = 0; i < request.value("n", 1); ++i) {
            g_workload->step();
        }
        return json::object();
    }
    if (cmd == "finish") {
        g_workload->finish(request.value("heartbeats", true));
        return json::object();
    }
    if (cmd == "tick") {
        g_db->tick();
        return json::object();
    }
    if (cmd == "purge") {
        g_db->purge(request.at("below").get<uint64_t>());
        return json::object();
    }
    if (cmd == "state") {
        return {{"state", g_db->state("APP")}};
    }
    if (cmd == "state_after") {
        const auto& states = g_db->states("APP");
        auto it = states.find(request.at("xid").get<std::string>());
        if (it == states.end()) {
            return error(600, "ORA-00600: no commit of that transaction");
        }
        return {{"state", it->second}};
    }
    if (cmd == "snapshot") {
        json rows = json::object();
        json columns = json::object();
        for (const sim::Table* t : g_db->tables("APP")) {
            columns[t->name] = t->columns;
            json list = json::array();
            for (const auto& [key, row] : t->rows) {
                json values = json::array();
                for (const sim::Value& v : row.values) {
                    values.push_back(cell(v));
                }
                list.push_back(values);
            }
            rows[t->name] = list;
        }
        return {{"rows", rows}, {"columns", columns}};
    }
    if (cmd == "open_first_scns") {
        return {{"scns", g_db->open_first_scns()}};
    }
    if (cmd == "current_scn") {
        return {{"scn", g_db->current_scn()}};
    }
    if (cmd == "threads") {
        json out = json::array();
        for (const rep::oracle::RedoThread& t : g_db->threads()) {
            out.push_back(t.last_redo_scn);
        }
        return {{"last_redo", out}};
    }
    if (cmd == "states") {
        std::set<std::string> all;
        for (const auto& [xid, state] : g_db->states("APP")) {
            all.insert(state);
        }
        return {{"states", all}};
    }
    if (cmd == "history") {
        // The redo of rows whose SQL_REDO mentions `needle`, for diagnosing a test failure.
        json out = json::array();
        std::string needle = request.at("needle");
        for (const sim::Record& r : g_db->all_records()) {
            if (r.sql_redo.find(needle) != std::string::npos || r.op == rep::oracle::kOpCommit ||
                r.op == rep::oracle::kOpRollback) {
                out.push_back(fmt::format("{} t{} {} op{}{} {}", r.scn, r.thread, r.xid, r.op,
                                          r.rollback ? " undo" : "", r.sql_redo));
            }
        }
        return {{"records", out}};
    }
    if (cmd == "delay") {
        g_delay_ms.store(request.at("ms").get<int>());
        return json::object();
    }
    if (cmd == "large") {
        int rows = request.at("rows").get<int>();
        size_t width = request.value("width", size_t{3000});
        std::string xid = g_db->begin(1);
        for (int i = 0; i < rows; ++i) {
            g_db->insert(
                xid, "APP", "T2",
                {fmt::format("L{:07}", i), std::string(width, static_cast<char>('a' + i % 26))});
            if (i % 2000 == 1999) {
                g_db->log_switch(1);
                g_db->archive();
            }
        }
        g_db->commit(xid);
        return {{"xid", xid}};
    }
    if (cmd == "cut") {
        g_cuts.store(request.at("n").get<int>());
        return json::object();
    }
    if (cmd == "faults") {
        g_faults.fail_after_rows = request.value("fail_after_rows", size_t{0});
        g_faults.missing_scn = request.value("missing_scn", false);
        return json::object();
    }
    return error(900, "ORA-00900: unknown control command " + cmd);
}

void serve(int fd) {
    wire::LineReader reader(fd);
    std::unique_ptr<sim::SimLogMiner> miner;
    bool logged_in = false;
    std::string service;  // CDB$ROOT's, or a PDB's (the session's container)
    while (std::optional<json> request = reader.next()) {
        bool contents = request->value("op", "") == "exec" &&
                        (request->value("sql", "") == sql::contents(false) ||
                         request->value("sql", "") == sql::contents(true));
        int cuts = g_cuts.load();
        if (contents && cuts > 0 && g_cuts.compare_exchange_strong(cuts, cuts - 1)) {
            break;  // the connection drops with the LogMiner session started
        }
        if (request->value("op", "") == "exec" && g_delay_ms.load() > 0 &&
            (request->value("sql", "") == sql::contents(false) ||
             request->value("sql", "") == sql::contents(true))) {
            // A slow LogMiner query, outside the lock so that control commands go on.
            std::this_thread::sleep_for(std::chrono::milliseconds(g_delay_ms.load()));
        }
        std::lock_guard lock(g_mutex);
        json answer;
        std::string op = request->value("op", "");
        try {
            if (op == "control") {
                answer = control(*request);
            } else if (op == "login") {
                if (request->value("password", "") != "secret") {
                    answer = error(1017, "ORA-01017: invalid username/password; logon denied");
                } else if (!g_db) {
                    answer = error(1034, "ORA-01034: ORACLE not available");
                } else {
                    logged_in = true;
                    service = request->value("service", "");
                    miner = std::make_unique<sim::SimLogMiner>(*g_db, g_seed + 17, g_csf_limit);
                    answer = json::object();
                }
            } else if (!logged_in) {
                answer = error(1012, "ORA-01012: not logged on");
            } else if (op == "exec") {
                answer = exec(*miner, service, request->at("sql"), request->at("binds"));
            } else {
                answer = json::object();  // commit, rollback, ping
            }
        } catch (const std::exception& e) {
            answer = error_from(e);
        }
        if (!wire::send_line(fd, answer)) {
            break;
        }
    }
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    int port = argc > 1 ? std::atoi(argv[1]) : 0;
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 16) != 0) {
        std::perror("oracle_sim_server: cannot listen");
        return 1;
    }
    socklen_t len = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    std::printf("PORT %d\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    for (;;) {
        int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) {
            continue;
        }
        std::thread(serve, fd).detach();
    }
}
