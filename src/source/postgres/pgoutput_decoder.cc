#include "source/postgres/pgoutput_decoder.h"

#include "base/error.h"

#include <fmt/format.h>

namespace rep::pg {
namespace {

// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01).
constexpr int64_t kPgEpochOffsetUs = 946684800LL * 1000000LL;

// Big-endian reader over one message; every overrun is a fatal protocol error that says where.
class Reader {
public:
    explicit Reader(std::string_view buf) : buf_(buf) {}

    uint8_t u8() {
        need(1);
        return static_cast<uint8_t>(buf_[pos_++]);
    }
    uint16_t u16() { return static_cast<uint16_t>(be(2)); }
    uint32_t u32() { return static_cast<uint32_t>(be(4)); }
    uint64_t u64() { return be(8); }
    int64_t i64() { return static_cast<int64_t>(be(8)); }
    std::string cstr() {
        auto end = buf_.find('\0', pos_);
        if (end == std::string_view::npos) {
            fail("unterminated string");
        }
        std::string s(buf_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return s;
    }
    std::string bytes(size_t n) {
        need(n);
        std::string s(buf_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    bool done() const { return pos_ == buf_.size(); }
    [[noreturn]] void fail(std::string_view what) const {
        throw fatal(fmt::format("malformed pgoutput message '{}' ({} bytes): {} at byte {}",
                                buf_.empty() ? '?' : buf_[0], buf_.size(), what, pos_));
    }

private:
    void need(size_t n) const {
        if (buf_.size() - pos_ < n) {
            fail(fmt::format("needs {} more bytes", n));
        }
    }
    uint64_t be(size_t n) {
        need(n);
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) {
            v = (v << 8) | static_cast<uint8_t>(buf_[pos_ + i]);
        }
        pos_ += n;
        return v;
    }

    std::string_view buf_;
    size_t pos_ = 0;
};

int64_t to_unix_us(int64_t pg_us) {
    return pg_us + kPgEpochOffsetUs;
}

std::vector<Datum> read_tuple(Reader& r, const Relation& rel) {
    uint16_t n = r.u16();
    if (n != rel.columns.size()) {
        r.fail(fmt::format("tuple has {} columns but relation {}.{} has {}", n, rel.schema,
                           rel.name, rel.columns.size()));
    }
    std::vector<Datum> out(n);
    for (uint16_t i = 0; i < n; ++i) {
        char kind = static_cast<char>(r.u8());
        switch (kind) {
            case 'n':
                out[i] = Datum::null();
                break;
            case 'u':
                out[i] = Datum{Datum::Kind::kAbsent, {}};
                break;
            case 't':
                out[i] = Datum::value(r.bytes(r.u32()));
                break;
            case 'b':
                // Only sent when the subscriber asks for binary mode, which we never do.
                r.fail("binary column value, but binary mode was not requested");
            default:
                r.fail(fmt::format("unknown tuple column kind '{}'", kind));
        }
    }
    return out;
}

}  // namespace

void PgOutputDecoder::reset() {
    relations_.clear();
    in_stream_ = false;
}

Message PgOutputDecoder::decode(std::string_view payload) {
    Message m = decode_impl(payload, in_stream_);
    if (std::holds_alternative<StreamStartMsg>(m)) {
        in_stream_ = true;
    } else if (std::holds_alternative<StreamStopMsg>(m)) {
        in_stream_ = false;
    }
    return m;
}

Message PgOutputDecoder::decode_impl(std::string_view payload, bool streamed) {
    Reader r(payload);
    if (payload.empty()) {
        r.fail("empty message");
    }
    char type = static_cast<char>(r.u8());
    auto lookup = [&](uint32_t relid) {
        auto it = relations_.find(relid);
        if (it == relations_.end()) {
            r.fail(fmt::format("relation OID {} was never announced by a Relation message", relid));
        }
        return it->second;
    };
    switch (type) {
        case 'B': {
            BeginMsg b;
            b.final_lsn = Lsn(r.u64());
            b.commit_time_us = to_unix_us(r.i64());
            b.xid = r.u32();
            return b;
        }
        case 'C': {
            r.u8();  // flags, unused
            CommitMsg c;
            c.commit_lsn = Lsn(r.u64());
            c.end_lsn = Lsn(r.u64());
            c.commit_time_us = to_unix_us(r.i64());
            return c;
        }
        case 'O': {
            InfoMsg o{type, 0, {}};
            uint64_t lsn = r.u64();
            o.text = fmt::format("origin {} at {}", r.cstr(), Lsn(lsn).str());
            return o;
        }
        case 'R': {
            auto rel = std::make_shared<Relation>();
            if (streamed) {
                r.u32();
            }
            rel->id = r.u32();
            rel->schema = r.cstr();
            rel->name = r.cstr();
            rel->replica_identity = static_cast<char>(r.u8());
            uint16_t n = r.u16();
            rel->columns.resize(n);
            for (auto& col : rel->columns) {
                col.is_key = (r.u8() & 1) != 0;
                col.name = r.cstr();
                col.type_oid = r.u32();
                col.type_mod = static_cast<int32_t>(r.u32());
            }
            rel->version = next_version_++;
            relations_[rel->id] = rel;
            return RelationMsg{std::move(rel)};
        }
        case 'Y': {
            InfoMsg y{type, streamed ? r.u32() : 0, {}};
            uint32_t oid = r.u32();
            std::string nsp = r.cstr();
            y.text = fmt::format("type {}.{} (OID {})", nsp, r.cstr(), oid);
            return y;
        }
        case 'I':
        case 'U':
        case 'D': {
            ChangeMsg c;
            c.op = type;
            c.xid = streamed ? r.u32() : 0;
            c.relation = lookup(r.u32());
            char tag = static_cast<char>(r.u8());
            if (type != 'I' && (tag == 'K' || tag == 'O')) {
                c.old_kind = tag;
                c.old_tuple = read_tuple(r, *c.relation);
                if (tag == 'K') {
                    // A key tuple sends the columns outside the replica identity as 'n'; they
                    // are unknown, not NULL.
                    for (size_t i = 0; i < c.old_tuple.size(); ++i) {
                        if (!c.relation->columns[i].is_key) {
                            c.old_tuple[i] = Datum{};
                        }
                    }
                }
                if (type == 'U') {
                    tag = static_cast<char>(r.u8());
                }
            }
            if (type != 'D') {
                if (tag != 'N') {
                    r.fail(fmt::format("expected new tuple marker 'N', got '{}'", tag));
                }
                c.new_tuple = read_tuple(r, *c.relation);
            } else if (c.old_kind == 0) {
                r.fail(fmt::format("expected old tuple marker 'K' or 'O', got '{}'", tag));
            }
            return c;
        }
        case 'T': {
            TruncateMsg t;
            t.xid = streamed ? r.u32() : 0;
            uint32_t n = r.u32();
            uint8_t options = r.u8();
            t.truncate.cascade = (options & 1) != 0;
            t.truncate.restart_identity = (options & 2) != 0;
            for (uint32_t i = 0; i < n; ++i) {
                t.truncate.relations.push_back(lookup(r.u32()));
            }
            return t;
        }
        case 'M': {
            // Only transactional messages inside a stream carry the xid; we never ask for
            // messages ('messages' option off), so this is decoded for completeness.
            InfoMsg m{type, streamed ? r.u32() : 0, {}};
            uint8_t flags = r.u8();
            uint64_t lsn = r.u64();
            std::string prefix = r.cstr();
            uint32_t len = r.u32();
            r.bytes(len);
            m.text = fmt::format("message prefix={} transactional={} lsn={} bytes={}", prefix,
                                 flags & 1, Lsn(lsn).str(), len);
            return m;
        }
        case 'S': {
            StreamStartMsg s;
            s.xid = r.u32();
            s.first_segment = r.u8() == 1;
            return s;
        }
        case 'E':
            return StreamStopMsg{};
        case 'c': {
            StreamCommitMsg c;
            c.xid = r.u32();
            r.u8();  // flags, unused
            c.commit_lsn = Lsn(r.u64());
            c.end_lsn = Lsn(r.u64());
            c.commit_time_us = to_unix_us(r.i64());
            return c;
        }
        case 'A': {
            StreamAbortMsg a;
            a.xid = r.u32();
            a.subxid = r.u32();
            // Protocol 4 (PostgreSQL 16) appends abort LSN and time; we request at most 2.
            return a;
        }
        default:
            r.fail(fmt::format("unknown message type '{}'", type));
    }
}

void to_mutations(ChangeMsg&& c, std::vector<Mutation>& out) {
    Mutation m;
    m.relation = std::move(c.relation);
    if (c.op == 'D') {
        m.kind = MutationKind::kDelete;
        m.values = std::move(c.old_tuple);
    } else {
        m.kind = MutationKind::kUpsert;
        m.values = std::move(c.new_tuple);
        m.old_values = std::move(c.old_tuple);
        m.inserted = c.op == 'I';
    }
    out.push_back(std::move(m));
}

}  // namespace rep::pg
