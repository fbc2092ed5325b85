// SQL_REDO statements into mutations (reference §3.4 "Target writes", edge cases 1-3 and 10),
// and Oracle positions.

#include "base/error.h"
#include "source/oracle/redo_mutation.h"
#include "source/oracle/scn_codec.h"
#include "source/oracle/sql_redo.h"

#include <gtest/gtest.h>

namespace rep::oracle {
namespace {

OracleTable table() {
    return make_table("APP", "T",
                      {{"ID", "NUMBER", true},
                       {"N", "NUMBER", false},
                       {"F", "BINARY_DOUBLE", false},
                       {"S", "VARCHAR2", false}});
}

Mutation convert(const std::string& sql) {
    return to_mutation(parse_sql_redo(sql), table(), RedoOrigin{4711, "0A001B00C0000000"});
}

std::string show(const std::vector<Datum>& values) {
    std::string out;
    for (const Datum& d : values) {
        out += d.absent() ? "~" : d.is_null() ? "NULL" : d.text;
        out += "|";
    }
    return out;
}

std::string error_of(const std::string& sql) {
    try {
        convert(sql);
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        return e.what();
    }
    return "";
}

TEST(OracleMutation, InsertIsAWholeRowWithQuotedNumbersNullsAndSpecials) {
    Mutation m = convert(R"(insert into "APP"."T"("ID","N","F") values ('1','-.5','Nan');)");
    EXPECT_EQ(m.kind, MutationKind::kUpsert);
    EXPECT_EQ(show(m.values), "1|-.5|NaN|NULL|");  // S left out: NULL
    EXPECT_EQ(show(convert(R"(insert into "APP"."T"("ID","F") values ('2','-Inf');)").values),
              "2|NULL|-Infinity|NULL|");
    EXPECT_EQ(show(convert(R"(insert into "APP"."T"("ID","N") values ('3','1.0E+125');)").values),
              "3|1.0E+125|NULL|NULL|");
}

TEST(OracleMutation, UpdateCarriesTheKeyAndTheColumnsItSets) {
    Mutation m = convert(R"(update "APP"."T" set "S" = 'x' where "ID" = '1' and "S" IS NULL;)");
    EXPECT_EQ(m.kind, MutationKind::kUpsert);
    EXPECT_EQ(show(m.values), "1|~|~|x|");
    EXPECT_TRUE(m.old_values.empty());
}

TEST(OracleMutation, KeyChangeNeedsTheWholeRow) {
    // With all columns logged, the before-image completes the new row.
    Mutation m = convert(R"(update "APP"."T" set "ID" = '2' where "ID" = '1' and "N" = '7' and )"
                         R"("F" IS NULL and "S" = 'a';)");
    EXPECT_EQ(show(m.values), "2|7|NULL|a|");
    EXPECT_EQ(show(m.old_values), "1|~|~|~|");
    // With the key logged only, the rest of the row is unknown: refused with the fix.
    std::string e = error_of(R"(update "APP"."T" set "ID" = '2' where "ID" = '1';)");
    EXPECT_NE(e.find("an UPDATE of APP.T in transaction 0A001B00C0000000 at SCN 4711 changes "
                     "the primary key but the redo lacks column \"N\""),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS"), std::string::npos) << e;
}

TEST(OracleMutation, DeleteByTheKeyOfItsBeforeImage) {
    Mutation m =
        convert(R"(delete from "APP"."T" where "ID" = '2' and "N" = '-.5' and "S" IS NULL;)");
    EXPECT_EQ(m.kind, MutationKind::kDelete);
    EXPECT_EQ(show(m.values), "2|~|~|~|");
}

TEST(OracleMutation, MissingKeysAndUnknownColumnsAreNamed) {
    std::string e = error_of(R"(delete from "APP"."T" where "N" = '1';)");
    EXPECT_NE(e.find("the DELETE of APP.T in transaction 0A001B00C0000000 at SCN 4711 does not "
                     "name primary key column \"ID\""),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("ADD SUPPLEMENTAL LOG DATA (PRIMARY KEY) COLUMNS"), std::string::npos) << e;
    e = error_of(R"(insert into "APP"."T"("ID","NEW") values ('1','2');)");
    EXPECT_NE(e.find("names column \"NEW\" of APP.T, which the table did not have"),
              std::string::npos)
        << e;
    try {
        make_table("APP", "NOKEY", {{"A", "NUMBER", false}});
        ADD_FAILURE() << "a table without a key was accepted";
    } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find("APP.NOKEY has no primary key"), std::string::npos);
    }
}

TEST(OracleScn, CommitsAtOneScnAreOrderedAndKeepalivesFallBetween) {
    ScnCodec codec;
    Position a = ScnCodec::commit(100, 0, {"0A00"});
    Position b = ScnCodec::commit(100, 1, {"0A00", "0B00"});  // RAC: another thread, one SCN
    Position c = ScnCodec::commit(101, 0, {"0C00"});
    EXPECT_LT(a.ordinal, b.ordinal);
    EXPECT_LT(b.ordinal, c.ordinal);
    EXPECT_EQ(a.text, "100:0A00");
    EXPECT_EQ(b.text, "100:0A00,0B00");
    EXPECT_LT(b.ordinal, ScnCodec::below(101).ordinal);  // nothing below 101 is still to come
    EXPECT_LT(ScnCodec::below(101).ordinal, c.ordinal);
    EXPECT_EQ(ScnCodec::below(101).text, "100");
    EXPECT_EQ(codec.describe(c), "SCN 101 (transaction 0C00)");
    EXPECT_EQ(codec.describe(ScnCodec::below(101)), "SCN 100");
    EXPECT_EQ(codec.describe_transaction(0, ScnCodec::begin(100, 1, "0A001B00C0000000")),
              "transaction 0A001B00C0000000 (commit SCN 100)");
    auto parsed = codec.parse("26690001");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(ScnCodec::scn_of(parsed->ordinal), 26690001U);
    EXPECT_GT(parsed->ordinal, ScnCodec::commit(26690001, 5, {}).ordinal);
    parsed = codec.parse(b.text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->ordinal, b.ordinal);
    // What a memo position says the target has.
    std::optional<AppliedPoint> point = ScnCodec::applied(b.text);
    ASSERT_TRUE(point);
    EXPECT_TRUE(point->covers(99, "FFFF"));
    EXPECT_TRUE(point->covers(100, "0B00"));
    EXPECT_FALSE(point->covers(100, "0D00"));  // committed at 100 on another thread, after
    EXPECT_FALSE(point->covers(101, "0A00"));
    EXPECT_TRUE(ScnCodec::applied("100")->covers(100, "0D00"));
    EXPECT_FALSE(codec.parse("100:"));
    EXPECT_FALSE(codec.parse("100:0A00,,0B00"));
    EXPECT_FALSE(codec.parse("100:0A00,"));
    EXPECT_FALSE(codec.parse("100:XYZ"));
    EXPECT_FALSE(codec.parse("0x10"));
    EXPECT_FALSE(codec.parse(""));
    EXPECT_FALSE(codec.stable_ordinals());
    EXPECT_THROW(ScnCodec::commit(5, ScnCodec::kTies, {}), Error);
}

}  // namespace
}  // namespace rep::oracle
