#pragma once

// The simulated Oracle as the Oracle reader's tests see it: a LogMiner to read and a
// workload to drive, either in this process (SimLogMiner over sim::Database) or as the
// simulator server process reached through the production OCI code (OciSession,
// OciLogMiner) loading the stand-in client library, as the replicator binary would load
// Instant Client's.

#include "source/oracle/logminer.h"
#include "source/oracle/oci_logminer.h"
#include "source/oracle/oci_session.h"

#include "sim_database.h"
#include "sim_logminer.h"
#include "sim_process.h"
#include "sim_target.h"
#include "sim_workload.h"
#include <fmt/format.h>

#include <memory>
#include <stdexcept>

namespace rep::oracle::test {

class World {
public:
    virtual ~World() = default;
    virtual LogMiner& miner() = 0;
    // A new LogMiner session, as after a process restart.
    virtual void reconnect() = 0;
    virtual void step() = 0;
    virtual void finish() = 0;
    virtual void tick() = 0;
    virtual std::string state_after(const std::string& xid) = 0;
    virtual std::string state() = 0;
    virtual sim::Columns columns() = 0;
    virtual sim::Rows snapshot() = 0;
    virtual std::map<std::string, uint64_t> open_first_scns() = 0;
    virtual uint64_t current_scn() = 0;
    virtual std::vector<uint64_t> last_redo() = 0;
    virtual void purge(uint64_t below) = 0;
    virtual void faults(size_t fail_after_rows, bool missing_scn) = 0;
};

class InProcessWorld final : public World {
public:
    InProcessWorld(uint64_t seed, int threads)
        : db_(seed, threads), miner_(db_, seed + 17, 60), workload_(db_, seed, threads) {
        sim::Workload::create_tables(db_);
    }

    LogMiner& miner() override { return miner_; }
    void reconnect() override {}
    void step() override { workload_.step(); }
    void finish() override { workload_.finish(); }
    void tick() override { db_.tick(); }
    std::string state_after(const std::string& xid) override { return db_.states("APP").at(xid); }
    std::string state() override { return db_.state("APP"); }
    sim::Columns columns() override { return sim::columns_of(db_, "APP"); }
    sim::Rows snapshot() override { return sim::rows_of(db_, "APP"); }
    std::map<std::string, uint64_t> open_first_scns() override { return db_.open_first_scns(); }
    uint64_t current_scn() override { return db_.current_scn(); }
    std::vector<uint64_t> last_redo() override {
        std::vector<uint64_t> out;
        for (const RedoThread& t : db_.threads()) {
            out.push_back(t.last_redo_scn);
        }
        return out;
    }
    void purge(uint64_t below) override { db_.purge(below); }
    void faults(size_t fail_after_rows, bool missing_scn) override {
        miner_.faults() = sim::Faults{fail_after_rows, missing_scn};
    }

private:
    sim::Database db_;
    sim::SimLogMiner miner_;
    sim::Workload workload_;
};

// The simulator server (ORACLE_SIM_SERVER) as a child process, the stand-in libclntsh
// (ORACLE_STAND_IN_DIR) loaded by the production loader.
class ServerWorld final : public World {
public:
    ServerWorld(uint64_t seed, int threads) : server_(ORACLE_SIM_SERVER, seed, threads) {
        url_ = OracleUrl::parse(server_.url("ORCLCDB"), "--sourceConn");
        reconnect();
    }
    ~ServerWorld() override {
        miner_.reset();
        session_.reset();
    }

    const OracleUrl& url() const { return url_; }

    LogMiner& miner() override { return *miner_; }
    void reconnect() override {
        miner_.reset();
        session_.reset();
        const oci::Api& api = oci::load({ORACLE_STAND_IN_DIR});
        session_ = std::make_unique<OciSession>(api, url_, OciSession::Options{});
        miner_ = std::make_unique<OciLogMiner>(*session_);
    }
    void step() override { control({{"cmd", "step"}, {"n", 1}}); }
    void finish() override { control({{"cmd", "finish"}}); }
    void tick() override { control({{"cmd", "tick"}}); }
    std::string state_after(const std::string& xid) override {
        return control({{"cmd", "state_after"}, {"xid", xid}}).at("state");
    }
    std::string state() override { return control({{"cmd", "state"}}).at("state"); }
    sim::Columns columns() override {
        return control({{"cmd", "snapshot"}}).at("columns").get<sim::Columns>();
    }
    sim::Rows snapshot() override {
        sim::Rows out;
        nlohmann::json answer = control({{"cmd", "snapshot"}});
        for (const auto& [table, rows] : answer.at("rows").items()) {
            for (const auto& row : rows) {
                std::vector<sim::Value> values;
                for (const auto& v : row) {
                    values.push_back(v.is_null() ? sim::Value{}
                                                 : sim::Value{sim::wire::from_hex(v)});
                }
                out[table].push_back(values);
            }
        }
        return out;
    }
    std::map<std::string, uint64_t> open_first_scns() override {
        return control({{"cmd", "open_first_scns"}})
            .at("scns")
            .get<std::map<std::string, uint64_t>>();
    }
    uint64_t current_scn() override { return control({{"cmd", "current_scn"}}).at("scn"); }
    std::vector<uint64_t> last_redo() override {
        return control({{"cmd", "threads"}}).at("last_redo").get<std::vector<uint64_t>>();
    }
    void purge(uint64_t below) override { control({{"cmd", "purge"}, {"below", below}}); }
    void faults(size_t fail_after_rows, bool missing_scn) override {
        control({{"cmd", "faults"},
                 {"fail_after_rows", fail_after_rows},
                 {"missing_scn", missing_scn}});
    }

private:
    nlohmann::json control(nlohmann::json request) { return server_.control(std::move(request)); }

    sim::SimServer server_;
    OracleUrl url_;
    std::unique_ptr<OciSession> session_;
    std::unique_ptr<OciLogMiner> miner_;
};

}  // namespace rep::oracle::test
