#include "staging/parallel_checkpoint.h"

#include "base/error.h"
#include "source/postgres/lsn_codec.h"

#include <gtest/gtest.h>

namespace rep::staging {
namespace {

Ordinal L(uint64_t v) {
    return Ordinal(v);
}

// Records are spelled with the source's codec; PostgreSQL's is the one that uses them.
const pg::LsnCodec kCodec;

TEST(ParallelCheckpoint, RecordRoundTripsThroughText) {
    WorkerRecord r{L(0x16B3748), {{L(0x16B4000), L(0x16B5000)}, {L(0x100000000), L(0x100000000)}}};
    std::string text = encode_record(r, kCodec);
    EXPECT_EQ(text, "prefix 0/16B3748 applied 0/16B4000-0/16B5000 1/0-1/0");
    EXPECT_EQ(decode_record(text, "k", kCodec), r);
    EXPECT_EQ(decode_record("prefix 0/0 applied", "k", kCodec), (WorkerRecord{L(0), {}}));
}

TEST(ParallelCheckpoint, MalformedRecordNamesTheRow) {
    for (const char* bad : {"", "0/1", "prefix x/y applied", "prefix 0/1 applied 0/5",
                            "prefix 0/1 applied 0/5-0/4", "prefix 0/1 done 0/2-0/3"}) {
        try {
            decode_record(bad, "pglogical-wal-offset-public#w3", kCodec);
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const Error& e) {
            EXPECT_FALSE(e.retryable());
            EXPECT_NE(std::string(e.what()).find("pglogical-wal-offset-public#w3"),
                      std::string::npos)
                << e.what();
        }
    }
}

TEST(ParallelCheckpoint, KeysSitBesideThePlainCheckpoint) {
    EXPECT_EQ(worker_record_key("pglogical-wal-offset-public", 0),
              "pglogical-wal-offset-public#w0");
    EXPECT_EQ(worker_record_key("pglogical-wal-offset-public", 15),
              "pglogical-wal-offset-public#w15");
    EXPECT_EQ(carried_record_key("k"), "k#carried");
    EXPECT_EQ(record_key_prefix("k"), "k#");
}

TEST(ParallelCheckpoint, RecoveryTakesTheLargestPrefixAndTheRangesBeyondIt) {
    // Worker 0 saw prefix 100 and committed [150,160]; worker 1 later saw prefix 200 (so
    // [150,160] is inside it) and committed [300,310] and [400,400].
    std::vector<WorkerRecord> records = {
        {L(100), {{L(150), L(160)}}},
        {L(200), {{L(300), L(310)}, {L(400), L(400)}}},
    };
    AppliedSet set = AppliedSet::recover(L(90), records);
    EXPECT_EQ(set.prefix(), L(200));
    ASSERT_EQ(set.ranges().size(), 2u);
    EXPECT_FALSE(set.contains(L(155)));  // before the prefix: the source never resends it
    EXPECT_FALSE(set.contains(L(299)));
    EXPECT_TRUE(set.contains(L(300)));
    EXPECT_TRUE(set.contains(L(305)));
    EXPECT_TRUE(set.contains(L(310)));
    EXPECT_FALSE(set.contains(L(311)));
    EXPECT_TRUE(set.contains(L(400)));
    EXPECT_FALSE(set.contains(L(401)));
}

TEST(ParallelCheckpoint, PlainRowAheadOfRecordsWins) {
    AppliedSet set = AppliedSet::recover(L(500), {{L(100), {{L(150), L(160)}}}});
    EXPECT_EQ(set.prefix(), L(500));
    EXPECT_TRUE(set.empty());
    EXPECT_EQ(AppliedSet::recover(std::nullopt, {}).prefix(), L(0));
}

TEST(ParallelCheckpoint, RangeStartingAtThePrefixIsKept) {
    // A commit record may start exactly where the previous one ended (the prefix).
    AppliedSet set = AppliedSet::recover(L(200), {{L(200), {{L(200), L(200)}}}});
    EXPECT_TRUE(set.contains(L(200)));
}

TEST(ParallelCheckpoint, OverlappingRangesMerge) {
    AppliedSet set = AppliedSet::recover(
        L(0), {{L(0), {{L(10), L(20)}, {L(40), L(50)}}}, {L(0), {{L(15), L(30)}}}});
    ASSERT_EQ(set.ranges().size(), 2u);
    EXPECT_EQ(set.ranges()[0], (OrdinalRange{L(10), L(30)}));
    EXPECT_EQ(set.ranges()[1], (OrdinalRange{L(40), L(50)}));
    EXPECT_EQ(set.as_record(), (WorkerRecord{L(0), set.ranges()}));
}

}  // namespace
}  // namespace rep::staging
