#include "base/error.h"
#include "source/postgres/pgoutput_decoder.h"

#include "capture_file.h"
#include "pgoutput_test_util.h"
#include <gtest/gtest.h>

// Hand-built pgoutput messages: exact layouts and every kind of malformed input.

namespace rep::pg {
namespace {

using namespace rep::pg::test_util;

// ---------------------------------------------------------------------------------------------
// Hand-built messages.

class Bytes {
public:
    Bytes& u8(uint8_t v) {
        s_ += static_cast<char>(v);
        return *this;
    }
    Bytes& ch(char c) {
        s_ += c;
        return *this;
    }
    Bytes& u16(uint16_t v) { return be(v, 2); }
    Bytes& u32(uint32_t v) { return be(v, 4); }
    Bytes& u64(uint64_t v) { return be(v, 8); }
    Bytes& cstr(std::string_view v) {
        s_ += v;
        s_ += '\0';
        return *this;
    }
    Bytes& text(std::string_view v) {
        ch('t').u32(static_cast<uint32_t>(v.size()));
        s_ += v;
        return *this;
    }
    Bytes& raw(std::string_view v) {
        s_ += v;
        return *this;
    }
    const std::string& str() const { return s_; }

private:
    Bytes& be(uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) {
            s_ += static_cast<char>((v >> (8 * i)) & 0xff);
        }
        return *this;
    }
    std::string s_;
};

constexpr uint32_t kRelOid = 16384;

// Relation public.t (id int4 key, v text), optionally with a stream xid prefix.
std::string relation_msg(uint32_t stream_xid = 0) {
    Bytes b;
    b.ch('R');
    if (stream_xid != 0) {
        b.u32(stream_xid);
    }
    b.u32(kRelOid).cstr("public").cstr("t").ch('d').u16(2);
    b.u8(1).cstr("id").u32(kInt4Oid).u32(0xffffffff);
    b.u8(0).cstr("v").u32(kTextOid).u32(0xffffffff);
    return b.str();
}

// Runs `decode` and returns the rep::Error message it throws (fatal), or fails the test.
template <typename F>
std::string error_of(F&& decode) {
    try {
        decode();
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable()) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected rep::Error";
    return {};
}

TEST(PgOutputDecoder, HandBuiltInsertUpdateDelete) {
    PgOutputDecoder d;
    auto r = std::get<RelationMsg>(d.decode(relation_msg()));
    EXPECT_EQ(r.relation->id, kRelOid);
    EXPECT_EQ(r.relation->columns[0].type_mod, -1);

    auto ins = std::get<ChangeMsg>(
        d.decode(Bytes().ch('I').u32(kRelOid).ch('N').u16(2).text("7").ch('n').str()));
    EXPECT_EQ(ins.op, 'I');
    EXPECT_EQ(show(ins.new_tuple), "7|NULL");

    auto upd = std::get<ChangeMsg>(d.decode(Bytes()
                                                .ch('U')
                                                .u32(kRelOid)
                                                .ch('K')
                                                .u16(2)
                                                .text("7")
                                                .ch('n')
                                                .ch('N')
                                                .u16(2)
                                                .text("8")
                                                .ch('u')
                                                .str()));
    EXPECT_EQ(upd.old_kind, 'K');
    EXPECT_EQ(show(upd.old_tuple), "7|<unchanged>");  // outside the key: unknown, not NULL
    EXPECT_EQ(show(upd.new_tuple), "8|<unchanged>");

    auto del = std::get<ChangeMsg>(
        d.decode(Bytes().ch('D').u32(kRelOid).ch('O').u16(2).text("8").text("").str()));
    EXPECT_EQ(del.old_kind, 'O');
    EXPECT_TRUE(del.new_tuple.empty());
    EXPECT_EQ(del.old_tuple[1].kind, Datum::Kind::kText);
    EXPECT_EQ(del.old_tuple[1].text, "");
}

TEST(PgOutputDecoder, HandBuiltStreamBlock) {
    PgOutputDecoder d;
    auto s = std::get<StreamStartMsg>(d.decode(Bytes().ch('S').u32(900).u8(1).str()));
    EXPECT_EQ(s.xid, 900u);
    EXPECT_TRUE(s.first_segment);
    EXPECT_TRUE(d.in_stream());
    auto r = std::get<RelationMsg>(d.decode(relation_msg(900)));
    EXPECT_EQ(r.relation->name, "t");
    auto ins = std::get<ChangeMsg>(
        d.decode(Bytes().ch('I').u32(901).u32(kRelOid).ch('N').u16(2).text("1").text("x").str()));
    EXPECT_EQ(ins.xid, 901u);
    EXPECT_EQ(show(ins.new_tuple), "1|x");
    auto t =
        std::get<TruncateMsg>(d.decode(Bytes().ch('T').u32(900).u32(1).u8(3).u32(kRelOid).str()));
    EXPECT_EQ(t.xid, 900u);
    EXPECT_TRUE(t.truncate.cascade);
    EXPECT_TRUE(t.truncate.restart_identity);
    ASSERT_EQ(t.truncate.relations.size(), 1u);
    d.decode(Bytes().ch('E').str());
    EXPECT_FALSE(d.in_stream());

    auto a = std::get<StreamAbortMsg>(d.decode(Bytes().ch('A').u32(900).u32(901).str()));
    EXPECT_EQ(a.xid, 900u);
    EXPECT_EQ(a.subxid, 901u);
    auto c = std::get<StreamCommitMsg>(
        d.decode(Bytes().ch('c').u32(900).u8(0).u64(0x100).u64(0x180).u64(0).str()));
    EXPECT_EQ(c.xid, 900u);
    EXPECT_EQ(c.commit_lsn, Lsn(0x100));
    EXPECT_EQ(c.end_lsn, Lsn(0x180));
    EXPECT_EQ(c.commit_time_us, 946684800LL * 1000000);  // 2000-01-01 in Unix microseconds
}

TEST(PgOutputDecoder, InfoMessages) {
    PgOutputDecoder d;
    auto o = std::get<InfoMsg>(d.decode(Bytes().ch('O').u64(0x1'0000'0010).cstr("east").str()));
    EXPECT_EQ(o.type, 'O');
    EXPECT_EQ(o.text, "origin east at 1/10");
    auto y =
        std::get<InfoMsg>(d.decode(Bytes().ch('Y').u32(5000).cstr("public").cstr("mood").str()));
    EXPECT_EQ(y.type, 'Y');
    EXPECT_EQ(y.text, "type public.mood (OID 5000)");
}

TEST(PgOutputDecoder, EmptyMessage) {
    PgOutputDecoder d;
    EXPECT_NE(error_of([&] { d.decode(""); }).find("empty message"), std::string::npos);
}

TEST(PgOutputDecoder, TruncatedMessage) {
    PgOutputDecoder d;
    std::string begin = Bytes().ch('B').u64(0x10).u64(0).u32(5).str();
    ASSERT_EQ(std::get<BeginMsg>(d.decode(begin)).xid, 5u);
    std::string msg = error_of([&] { d.decode(begin.substr(0, 10)); });
    EXPECT_NE(msg.find("malformed pgoutput message 'B' (10 bytes)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("needs 8 more bytes at byte 9"), std::string::npos) << msg;

    // A text value claiming more bytes than the message holds.
    d.decode(relation_msg());
    msg = error_of([&] {
        d.decode(
            Bytes().ch('I').u32(kRelOid).ch('N').u16(2).text("1").ch('t').u32(100).raw("ab").str());
    });
    EXPECT_NE(msg.find("needs 100 more bytes"), std::string::npos) << msg;

    // A relation name without its terminating NUL.
    msg = error_of([&] { d.decode(Bytes().ch('R').u32(1).cstr("public").raw("t").str()); });
    EXPECT_NE(msg.find("unterminated string"), std::string::npos) << msg;
}

TEST(PgOutputDecoder, UnknownMessageType) {
    PgOutputDecoder d;
    std::string msg = error_of([&] { d.decode(Bytes().ch('Z').u32(1).str()); });
    EXPECT_NE(msg.find("unknown message type 'Z'"), std::string::npos) << msg;
}

TEST(PgOutputDecoder, UnknownRelationOid) {
    PgOutputDecoder d;
    std::string insert = Bytes().ch('I').u32(kRelOid).ch('N').u16(2).text("1").text("x").str();
    std::string msg = error_of([&] { d.decode(insert); });
    EXPECT_NE(msg.find("relation OID 16384 was never announced by a Relation message"),
              std::string::npos)
        << msg;
    msg = error_of([&] { d.decode(Bytes().ch('T').u32(1).u8(0).u32(77).str()); });
    EXPECT_NE(msg.find("relation OID 77"), std::string::npos) << msg;

    // Known after the Relation; forgotten again after reset(), as after a reconnect.
    d.decode(relation_msg());
    EXPECT_EQ(std::get<ChangeMsg>(d.decode(insert)).relation->name, "t");
    d.reset();
    msg = error_of([&] { d.decode(insert); });
    EXPECT_NE(msg.find("never announced"), std::string::npos) << msg;
}

TEST(PgOutputDecoder, BadTuples) {
    PgOutputDecoder d;
    d.decode(relation_msg());
    std::string msg = error_of([&] {
        d.decode(Bytes().ch('I').u32(kRelOid).ch('N').u16(3).text("1").text("x").text("y").str());
    });
    EXPECT_NE(msg.find("tuple has 3 columns but relation public.t has 2"), std::string::npos)
        << msg;

    msg = error_of(
        [&] { d.decode(Bytes().ch('I').u32(kRelOid).ch('N').u16(2).text("1").ch('x').str()); });
    EXPECT_NE(msg.find("unknown tuple column kind 'x'"), std::string::npos) << msg;

    msg = error_of([&] {
        d.decode(
            Bytes().ch('I').u32(kRelOid).ch('N').u16(2).text("1").ch('b').u32(1).raw("x").str());
    });
    EXPECT_NE(msg.find("binary"), std::string::npos) << msg;

    msg = error_of(
        [&] { d.decode(Bytes().ch('I').u32(kRelOid).ch('K').u16(2).text("1").ch('n').str()); });
    EXPECT_NE(msg.find("expected new tuple marker 'N', got 'K'"), std::string::npos) << msg;

    msg = error_of(
        [&] { d.decode(Bytes().ch('D').u32(kRelOid).ch('N').u16(2).text("1").ch('n').str()); });
    EXPECT_NE(msg.find("expected old tuple marker 'K' or 'O', got 'N'"), std::string::npos) << msg;
}

}  // namespace
}  // namespace rep::pg
