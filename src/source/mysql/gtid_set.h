#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rep::mysql {

// A MySQL GTID set: source UUID -> sorted, disjoint, non-adjacent closed intervals of
// transaction numbers. Text form (MySQL's canonical one, as MOLT Replicator stores it):
//   "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,4c658ae6-e8ad-11ef-8449-0242ac140006:1-3"
// UUIDs are written lower case and sorted; a single transaction is "uuid:7".
class MysqlGtidSet {
public:
    using Uuid = std::array<uint8_t, 16>;
    struct Interval {
        uint64_t first;
        uint64_t last;  // inclusive
    };

    // Accepts MySQL's syntax: comma-separated "uuid:interval[:interval...]", whitespace and
    // newlines around commas, upper- or lower-case hex, "a-b" or "a". Empty text is the empty set.
    static std::optional<MysqlGtidSet> parse(std::string_view text);

    void add(const Uuid& uuid, uint64_t gno);
    void add(const MysqlGtidSet& other);  // union
    bool contains(const Uuid& uuid, uint64_t gno) const;
    bool contains(const MysqlGtidSet& other) const;  // other is a subset of this
    bool empty() const { return sets_.empty(); }
    std::string str() const;
    // How many transactions the set holds.
    uint64_t transactions() const;

    // The encoding COM_BINLOG_DUMP_GTID carries (MySQL's Gtid_set::encode): int64 number of
    // SIDs, then per SID 16 UUID bytes, int64 interval count and [start, end) int64 pairs,
    // all little-endian. Note the exclusive end.
    std::string encode() const;
    // The inverse, used by PREVIOUS_GTIDS events (same layout). nullopt if malformed.
    static std::optional<MysqlGtidSet> decode(std::string_view bytes);

    static std::optional<Uuid> parse_uuid(std::string_view text);
    static std::string uuid_str(const Uuid& uuid);

    friend bool operator==(const MysqlGtidSet& a, const MysqlGtidSet& b) {
        return a.str() == b.str();
    }

private:
    std::map<Uuid, std::vector<Interval>> sets_;
};

// A MariaDB GTID position: domain id -> (server id, sequence number), the last transaction
// applied in each replication domain. Text form "0-1-5,5-1-1" (domain-server-seq, sorted by
// domain), the form @@gtid_current_pos and @slave_connect_state use.
class MariadbGtidList {
public:
    struct Gtid {
        uint32_t domain;
        uint32_t server;
        uint64_t seq;
    };
    static std::optional<MariadbGtidList> parse(std::string_view text);
    // Records that transaction `g` is applied: it becomes its domain's position.
    void add(const Gtid& g);
    // Whether `g` is at or before this position in its domain.
    bool contains(const Gtid& g) const;
    bool empty() const { return domains_.empty(); }
    std::string str() const;
    // The sum of the domains' sequence numbers: a transaction count where each domain
    // numbers its transactions one by one, as MariaDB does.
    uint64_t transactions() const;
    const std::map<uint32_t, Gtid>& domains() const { return domains_; }

    friend bool operator==(const MariadbGtidList& a, const MariadbGtidList& b) {
        return a.str() == b.str();
    }

private:
    std::map<uint32_t, Gtid> domains_;
};

// Which flavour a GTID text belongs to: MySQL sets contain ':', MariaDB lists do not.
bool looks_like_mariadb_gtid(std::string_view text);

}  // namespace rep::mysql
