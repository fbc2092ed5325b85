// Server error texts lose their row values before anything prints them.

#include "util/row_contents.h"

#include <gtest/gtest.h>

namespace rep::util {
namespace {

TEST(RowContents, FailingRowsAndKeyValuesAreHidden) {
    set_show_row_contents(false);
    EXPECT_EQ(hide_row_contents("23502",
                                "null value in column \"v\" of relation \"t\" violates not-null "
                                "constraint (Failing row contains (7, null, alice@example.com)).)"),
              "null value in column \"v\" of relation \"t\" violates not-null constraint "
              "(Failing row contains (<hidden>)");
    EXPECT_EQ(hide_row_contents("23505",
                                "duplicate key value violates unique constraint "
                                "\"t_email_key\" (Key (email)=(alice@example.com) "
                                "already exists.)"),
              "duplicate key value violates unique constraint \"t_email_key\" (Key "
              "(email)=(<hidden>) already exists.)");
    // A value holding a ")" is hidden whole: the values end where PostgreSQL's own text
    // after them starts.
    EXPECT_EQ(hide_row_contents("23503",
                                "insert or update on table \"c\" violates foreign key "
                                "constraint \"c_p_fkey\" (Key (p, q)=(1, sec)ret) is "
                                "not present in table \"p\".)"),
              "insert or update on table \"c\" violates foreign key constraint \"c_p_fkey\" (Key "
              "(p, q)=(<hidden>) is not present in table \"p\".)");
    EXPECT_EQ(hide_row_contents("23P01",
                                "conflicting key value violates exclusion constraint "
                                "\"x\" (Key (r)=([1,5)) conflicts with existing key "
                                "(r)=([2,3)).)"),
              "conflicting key value violates exclusion constraint \"x\" (Key (r)=(<hidden>) "
              "conflicts with existing key (r)=(<hidden>)");
}

TEST(RowContents, DataExceptionsLoseTheQuotedValue) {
    set_show_row_contents(false);
    EXPECT_EQ(hide_row_contents("22P02", "invalid input syntax for type integer: \"s3cr\"et\""),
              "invalid input syntax for type integer: \"<hidden>\"");
    EXPECT_EQ(hide_row_contents("22003", "value \"99999999999\" is out of range for type integer"),
              "value \"<hidden>\" is out of range for type integer");
    // Encoding errors name encodings in quotes and show the value's bytes: the bytes go.
    EXPECT_EQ(hide_row_contents("22021", "invalid byte sequence for encoding \"UTF8\": 0xd6 0xd0"),
              "invalid byte sequence for encoding \"UTF8\": <hidden>");
    EXPECT_EQ(hide_row_contents("22P05",
                                "character with byte sequence 0xe2 0x82 0xac in encoding \"UTF8\" "
                                "has no equivalent in encoding \"LATIN1\""),
              "character with byte sequence <hidden> in encoding \"UTF8\" has no equivalent in "
              "encoding \"LATIN1\"");
    // Translations put the bytes straight after other text; old servers wrote them as one word.
    EXPECT_EQ(hide_row_contents("22P05",
                                "符号化方式\"UTF8\"におけるバイト列0xe2 0x82 "
                                "0xacである文字は\"LATIN1\"で等価な文字を持ちません"),
              "符号化方式\"UTF8\"におけるバイト列<hidden>である文字は\"LATIN1\"で等価な文字を持ちま"
              "せん");
    EXPECT_EQ(hide_row_contents("22P05",
                                "编码\"UTF8\"的字符0x0xe2 0x82 0xac在编码\"LATIN1\"没有相对应字符"),
              "编码\"UTF8\"的字符<hidden>在编码\"LATIN1\"没有相对应字符");
    EXPECT_EQ(hide_row_contents("22021", "invalid byte sequence for encoding \"UTF8\": 0xd6d0"),
              "invalid byte sequence for encoding \"UTF8\": <hidden>");
    EXPECT_EQ(hide_row_contents("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"),
              "invalid byte sequence for encoding \"UTF8\": <hidden>");
    // CockroachDB quotes the character.
    EXPECT_EQ(
        hide_row_contents("22P05", "character 'é' has no representation in encoding \"LATIN1\""),
        "character '<hidden>' has no representation in encoding \"LATIN1\"");
    // Identifiers in other classes stay.
    EXPECT_EQ(hide_row_contents("42P01", "relation \"public.t\" does not exist"),
              "relation \"public.t\" does not exist");
}

TEST(RowContents, TheFlagKeepsTextsWhole) {
    set_show_row_contents(true);
    std::string text = "x (Failing row contains (1, secret).)";
    EXPECT_EQ(hide_row_contents("23514", text), text);
    set_show_row_contents(false);
    EXPECT_EQ(hide_row_contents("23514", text), "x (Failing row contains (<hidden>)");
}

}  // namespace
}  // namespace rep::util
