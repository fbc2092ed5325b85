#include "source/postgres/stream_spool.h"

#include "base/error.h"
#include "source/postgres/pgoutput_decoder.h"

#include "capture_file.h"
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace rep::pg {
namespace {

namespace fs = std::filesystem;

// A message as it appears inside a stream block: type byte, xid, then the rest.
std::string streamed(char type, uint32_t xid, std::string_view rest) {
    std::string m(1, type);
    for (int shift = 24; shift >= 0; shift -= 8) {
        m += static_cast<char>((xid >> shift) & 0xff);
    }
    m += rest;
    return m;
}

class StreamSpoolTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("rep-spool-" + std::to_string(getpid()) + "-" + info->name());
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::vector<std::string> replay(StreamSpool& spool, uint32_t xid) {
        std::vector<std::string> out;
        spool.replay(xid, [&](std::string_view m) { out.emplace_back(m); });
        return out;
    }

    size_t files_in_dir() const {
        size_t n = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) {
            ++n;
        }
        return n;
    }

    fs::path dir_;
};

TEST_F(StreamSpoolTest, ReplaysEachTransactionInAppendOrder) {
    StreamSpool spool(dir_);
    EXPECT_TRUE(fs::is_directory(dir_));
    std::vector<std::string> a = {streamed('R', 10, "rel"), streamed('I', 10, "one"),
                                  streamed('I', 10, std::string("with\0nul", 8)),
                                  streamed('D', 10, "")};
    std::vector<std::string> b = {streamed('I', 20, "x"), streamed('U', 20, "y")};
    // Interleaved, as stream blocks of concurrent transactions arrive.
    spool.append(10, a[0]);
    spool.append(20, b[0]);
    spool.append(10, a[1]);
    spool.flush();
    spool.append(10, a[2]);
    spool.append(20, b[1]);
    spool.append(10, a[3]);
    spool.flush();
    EXPECT_EQ(spool.open_transactions(), 2u);
    EXPECT_TRUE(fs::exists(dir_ / "xid-10.spool"));
    EXPECT_TRUE(fs::exists(dir_ / "xid-20.spool"));
    size_t expected_size = 0;
    for (const auto& m : a) {
        expected_size += 4 + m.size();
    }
    EXPECT_EQ(fs::file_size(dir_ / "xid-10.spool"), expected_size);

    EXPECT_EQ(replay(spool, 10), a);
    EXPECT_EQ(spool.open_transactions(), 1u);
    EXPECT_FALSE(fs::exists(dir_ / "xid-10.spool"));
    EXPECT_TRUE(replay(spool, 10).empty()) << "a replayed transaction is gone";

    EXPECT_EQ(replay(spool, 20), b);
    EXPECT_EQ(spool.open_transactions(), 0u);
    EXPECT_EQ(files_in_dir(), 0u);
}

TEST_F(StreamSpoolTest, ReplayWithoutFlushStillSeesEverything) {
    StreamSpool spool(dir_);
    std::string big = streamed('I', 7, std::string(200000, 'z'));
    spool.append(7, streamed('I', 7, "first"));
    spool.append(7, big);
    auto got = replay(spool, 7);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], streamed('I', 7, "first"));
    EXPECT_EQ(got[1], big);
}

TEST_F(StreamSpoolTest, ReplayOfUnknownTransactionDoesNothing) {
    StreamSpool spool(dir_);
    EXPECT_TRUE(replay(spool, 99).empty());
    EXPECT_EQ(spool.open_transactions(), 0u);
}

TEST_F(StreamSpoolTest, AbortOfTopLevelXidDropsTheTransaction) {
    StreamSpool spool(dir_);
    spool.append(10, streamed('I', 10, "a"));
    spool.append(10, streamed('I', 11, "sub"));
    spool.append(20, streamed('I', 20, "keep"));
    spool.flush();
    spool.abort(10, 10);
    EXPECT_EQ(spool.open_transactions(), 1u);
    EXPECT_FALSE(fs::exists(dir_ / "xid-10.spool"));
    EXPECT_TRUE(replay(spool, 10).empty());
    EXPECT_EQ(replay(spool, 20), std::vector<std::string>{streamed('I', 20, "keep")});
    // Aborting something never spooled is harmless.
    spool.abort(30, 30);
    spool.abort(30, 31);
    EXPECT_EQ(spool.open_transactions(), 0u);
}

TEST_F(StreamSpoolTest, AbortOfSubtransactionSkipsOnlyItsMessages) {
    StreamSpool spool(dir_);
    std::vector<std::string> in = {
        streamed('I', 10, "top-1"),     streamed('R', 11, "relation sent for the subtransaction"),
        streamed('I', 11, "sub-1"),     streamed('T', 11, "truncate in sub"),
        streamed('I', 12, "nested-1"),  streamed('I', 10, "top-2"),
        streamed('I', 13, "other-sub"),
    };
    for (const auto& m : in) {
        spool.append(10, m);
    }
    spool.abort(10, 11);
    spool.abort(10, 12);  // each nested subtransaction gets its own abort
    EXPECT_EQ(spool.open_transactions(), 1u);
    // Relation messages survive: the server will not announce the layout again.
    EXPECT_EQ(replay(spool, 10), (std::vector<std::string>{in[0], in[1], in[5], in[6]}));
    EXPECT_EQ(spool.open_transactions(), 0u);
}

TEST_F(StreamSpoolTest, RemovesLeftoverSpoolFilesOnConstruction) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "xid-5.spool") << "left from an earlier run";
    std::ofstream(dir_ / "xid-6.spool") << "";
    std::ofstream(dir_ / "notes.txt") << "not ours";
    StreamSpool spool(dir_);
    EXPECT_FALSE(fs::exists(dir_ / "xid-5.spool"));
    EXPECT_FALSE(fs::exists(dir_ / "xid-6.spool"));
    EXPECT_TRUE(fs::exists(dir_ / "notes.txt"));
    EXPECT_EQ(spool.open_transactions(), 0u);
}

TEST_F(StreamSpoolTest, DestructorRemovesOpenFiles) {
    {
        StreamSpool spool(dir_);
        spool.append(1, streamed('I', 1, "a"));
        spool.flush();
        EXPECT_TRUE(fs::exists(dir_ / "xid-1.spool"));
    }
    EXPECT_EQ(files_in_dir(), 0u);
}

TEST_F(StreamSpoolTest, TruncatedFileIsAnError) {
    StreamSpool spool(dir_);
    spool.append(3, streamed('I', 3, "complete"));
    spool.append(3, streamed('I', 3, "cut short"));
    spool.flush();
    fs::resize_file(dir_ / "xid-3.spool", fs::file_size(dir_ / "xid-3.spool") - 2);
    try {
        replay(spool, 3);
        FAIL() << "expected rep::Error";
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("xid-3.spool is truncated"), std::string::npos)
            << e.what();
    }
}

TEST_F(StreamSpoolTest, UnusableDirectoryIsAnError) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "file") << "x";
    try {
        StreamSpool spool(dir_ / "file" / "spool");
        FAIL() << "expected rep::Error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("cannot create spool directory"), std::string::npos) << msg;
        EXPECT_NE(msg.find((dir_ / "file" / "spool").string()), std::string::npos) << msg;
        EXPECT_NE(msg.find("--dataDir"), std::string::npos) << msg;
    }
}

TEST(StreamedMessageXid, ReadsTheBigEndianXidAfterTheType) {
    EXPECT_EQ(streamed_message_xid(streamed('I', 0xDEADBEEF, "rest")), 0xDEADBEEFu);
    EXPECT_EQ(streamed_message_xid(streamed('R', 745, "")), 745u);
    EXPECT_EQ(streamed_message_xid("I\x01\x02"), 0u);  // too short to carry one
    EXPECT_EQ(streamed_message_xid(""), 0u);
}

// Feeds the protocol 2 capture through decoder and spool the way WalReader does, and checks
// what each streamed transaction replays at its Stream Commit.
TEST_F(StreamSpoolTest, ReplaysCapturedStreamedTransactions) {
    auto payloads = testing::read_capture("pgoutput_v2_streaming.bin");
    ASSERT_FALSE(payloads.empty());
    StreamSpool spool(dir_);
    PgOutputDecoder decoder;
    uint32_t stream_xid = 0;
    std::vector<uint32_t> committed;
    std::vector<std::vector<std::string>> replayed_ids;  // per Stream Commit
    size_t aborts = 0;
    for (const auto& p : payloads) {
        if (decoder.in_stream() && p[0] != 'E' && p[0] != 'S') {
            decoder.decode(p);
            spool.append(stream_xid, p);
            continue;
        }
        Message m = decoder.decode(p);
        if (const auto* s = std::get_if<StreamStartMsg>(&m)) {
            stream_xid = s->xid;
        } else if (std::holds_alternative<StreamStopMsg>(m)) {
            spool.flush();
        } else if (const auto* a = std::get_if<StreamAbortMsg>(&m)) {
            spool.abort(a->xid, a->subxid);
            ++aborts;
        } else if (const auto* c = std::get_if<StreamCommitMsg>(&m)) {
            committed.push_back(c->xid);
            PgOutputDecoder replay_decoder = decoder;
            std::vector<std::string> ids;
            spool.replay(c->xid, [&](std::string_view message) {
                Message r = replay_decoder.decode_streamed(message);
                if (const auto* change = std::get_if<ChangeMsg>(&r)) {
                    EXPECT_EQ(change->op, 'I');
                    ids.push_back(change->new_tuple.at(0).text);
                }
            });
            replayed_ids.push_back(std::move(ids));
        }
    }
    EXPECT_EQ(aborts, 2u);
    ASSERT_EQ(committed.size(), 2u);
    EXPECT_LT(committed[0], committed[1]);

    // The large transaction: every row, in order.
    const auto& big = replayed_ids[0];
    ASSERT_EQ(big.size(), 3000u);
    for (size_t i = 0; i < big.size(); ++i) {
        ASSERT_EQ(big[i], std::to_string(i + 1));
    }
    // The savepoint transaction: the rows inserted before SAVEPOINT and after ROLLBACK TO (by
    // the subtransaction that replaced the aborted one), none of the rolled-back 20501..21300.
    std::vector<std::string> expected;
    for (int id = 20001; id <= 20500; ++id) {
        expected.push_back(std::to_string(id));
    }
    for (int id = 21301; id <= 21500; ++id) {
        expected.push_back(std::to_string(id));
    }
    EXPECT_EQ(replayed_ids[1], expected);
    // The aborted transaction left nothing behind.
    EXPECT_EQ(spool.open_transactions(), 0u);
    EXPECT_EQ(files_in_dir(), 0u);
}

}  // namespace
}  // namespace rep::pg
