// Text in MariaDB's character sets other than UTF-8 arrives as the source server itself
// converts it to utf8mb4 (what a MySQL client reading the column sees), and text it cannot
// convert stops replication naming the column, never arriving altered.

#include "harness.h"
#include "my_ledger.h"
#include "mysql_harness.h"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using harness::fresh_log;
using harness::MyDatabases;
using harness::MySql;
using harness::Replicator;
using namespace std::chrono_literals;

// The digits 0 to 15, for generating byte sequences in SQL.
const std::string kNibbles =
    "(SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
    "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL "
    "SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 "
    "UNION ALL SELECT 14 UNION ALL SELECT 15)";

// Rows of `table` (k, v, c) holding every character of `cs` the server converts to Unicode:
// the single bytes in row 0, the two-byte characters of lead byte L in row L, and for sets
// with three-byte characters those of 0x8F xx in row 0x8F00 + xx.
void insert_every_character(MySql& db, const std::string& table, const std::string& cs,
                            int maxlen) {
    std::string d = kNibbles;
    // A valid sequence of `len` bytes that the server converts to a Unicode character (not to
    // '?'). CHAR(... USING) of an invalid sequence gives NULL or a shorter text, depending on
    // the plan, and its IS NULL can be folded away (the function is declared not nullable).
    auto converts = [&](const std::string& seq, int len) {
        return fmt::format(
            "LENGTH(CHAR({0} USING {1})) = {2} AND HEX(CONVERT(CHAR({0} USING {1}) "
            "USING utf8mb4)) <> '3F'",
            seq, cs, len);
    };
    db.exec(fmt::format(
        "INSERT INTO {0} (k, v, c) SELECT 0, CONVERT(UNHEX(GROUP_CONCAT(LPAD(HEX(b), 2, '0') "
        "ORDER BY b SEPARATOR '')) USING {1}), CONVERT('a' USING {1}) FROM (SELECT a.n*16+e.n AS "
        "b FROM {2} a, {2} e) x WHERE b > 0 AND (b = 63 OR {3})",
        table, cs, d, converts("b", 1)));
    if (maxlen < 2) {
        return;
    }
    db.exec(fmt::format(
        "INSERT INTO {0} (k, v) SELECT l, CONVERT(UNHEX(GROUP_CONCAT(h ORDER BY h SEPARATOR '')) "
        "USING {1}) FROM (SELECT a.n*16+e.n AS l, c.n*16+f.n AS t, HEX(CHAR(a.n*16+e.n, "
        "c.n*16+f.n)) AS h FROM {2} a, {2} e, {2} c, {2} f WHERE a.n >= 8) x WHERE NOT "
        "(LENGTH(CHAR(l USING {1})) <=> 1) AND {3} GROUP BY l",
        table, cs, d, converts("l, t", 2)));
    if (maxlen < 3) {
        return;
    }
    db.exec(fmt::format(
        "INSERT INTO {0} (k, v) SELECT 36608 + s, CONVERT(UNHEX(GROUP_CONCAT(h ORDER BY h "
        "SEPARATOR '')) USING {1}) FROM (SELECT a.n*16+e.n AS s, c.n*16+f.n AS t, HEX(CHAR(143, "
        "a.n*16+e.n, c.n*16+f.n)) AS h FROM {2} a, {2} e, {2} c, {2} f WHERE a.n >= 8 AND c.n >= "
        "8) x WHERE {3} GROUP BY s",
        table, cs, d, converts("143, s, t", 3)));
}

// Every character set the server has besides UTF-8 and binary, with its longest character.
std::vector<std::pair<std::string, int>> server_charsets() {
    std::vector<std::pair<std::string, int>> out;
    for (const auto& r :
         MySql().rows("SELECT CHARACTER_SET_NAME, MAXLEN FROM information_schema.CHARACTER_SETS "
                      "WHERE CHARACTER_SET_NAME NOT IN ('utf8mb3', 'utf8mb4', 'binary') "
                      "ORDER BY 1")) {
        out.emplace_back(r[0].value_or(""), std::stoi(r[1].value_or("1")));
    }
    return out;
}

bool is_unicode(const std::string& cs) {
    return cs == "ucs2" || cs == "utf16" || cs == "utf16le" || cs == "utf32";
}

// Every character of every character set: one table per set, compared row for row with what
// the source server gives a utf8mb4 client. Unicode encodings get text from all planes.
TEST(MylogicalCharsets, EveryCharacterOfEverySetArrivesAsTheSourceConvertsIt) {
    auto sets = server_charsets();
    ASSERT_GE(sets.size(), 30u);
    std::string src_ddl;
    std::string pg_ddl;
    for (const auto& [cs, maxlen] : sets) {
        src_ddl += fmt::format(
            "CREATE TABLE t_{0}(k INT PRIMARY KEY, v TEXT CHARACTER SET {0}, c CHAR(3) CHARACTER "
            "SET {0});",
            cs);
        pg_ddl += fmt::format("CREATE TABLE t_{}(k int PRIMARY KEY, v text, c text);", cs);
    }
    // ENUM and SET labels are written in the column's character set too.
    src_ddl +=
        "CREATE TABLE labels(k INT PRIMARY KEY, a ENUM('plain', 'ко') CHARACTER SET koi8r, b "
        "SET('中文', 'x') CHARACTER SET gbk, c ENUM('ça', 'x') CHARACTER SET latin1, d "
        "ENUM('ω', 'x') CHARACTER SET ucs2, e SET('Ω', 'λ') CHARACTER SET greek, f ENUM('on', "
        "'off') CHARACTER SET binary);";
    pg_ddl +=
        "CREATE TABLE labels(k int PRIMARY KEY, a text, b text, c text, d text, e text, f text);";
    MyDatabases db("my_charsets", src_ddl, pg_ddl);
    // Strict mode makes the generating queries' conversions to '?' errors; what they insert
    // is valid in its set by construction.
    db.source->exec("SET NAMES utf8mb4; SET SESSION sql_mode = ''");
    Replicator r(db.args(), fresh_log("my_charsets"));
    std::vector<std::pair<std::string, std::string>> tables;
    for (const auto& [cs, maxlen] : sets) {
        std::string t = "t_" + cs;
        if (is_unicode(cs)) {
            std::string sample =
                cs == "ucs2" ? "héllo wörld ﬁ 中文 ｶﾀｶﾅ Ω" : "héllo 😀 wörld 𝄞 中文 Ω";
            db.source->exec(fmt::format(
                "INSERT INTO {} VALUES (0, CONVERT('{}' USING {}), 'ab'), (1, '', NULL)", t, sample,
                cs));
        } else {
            insert_every_character(*db.source, t, cs, maxlen);
        }
        tables.emplace_back(t, "k, v, c");
    }
    db.source->exec(
        "INSERT INTO labels VALUES (1, 'ко', '中文,x', 'ça', 'ω', 'Ω,λ', 'on'), (2, 'plain', 'x', "
        "'x', 'x', '', 'off')");
    tables.emplace_back("labels", "k, a, b, c, d, e, f");
    EXPECT_TRUE(db.converges(tables, 120s)) << r.log();
    // Something of every kind was compared: double-byte sets, three-byte ones, labels.
    EXPECT_EQ(db.target->value("SELECT count(*) FROM t_gbk WHERE length(v) > 100"),
              db.source->value("SELECT count(*) FROM t_gbk WHERE CHAR_LENGTH(v) > 100"));
    EXPECT_GT(
        std::stoi(db.target->value("SELECT count(*) FROM t_ujis WHERE k > 36608").value_or("0")),
        50);
    EXPECT_EQ(db.target->value("SELECT a || b || c || d || e || f FROM labels WHERE k = 1"),
              "ко中文,xçaωΩ,λon");
    EXPECT_EQ(db.target->value("SELECT v FROM t_utf16 WHERE k = 0"), "héllo 😀 wörld 𝄞 中文 Ω");
}

// A value the source server has no Unicode character for (0x98 in cp1251) stops replication
// naming the table, column and byte, with what was before it applied and nothing of its
// transaction; the same value in a database that is not replicated stops nothing.
TEST(MylogicalCharsets, TextTheSourceCannotConvertStopsNamingTheColumn) {
    MyDatabases other("my_cs_other",
                      "CREATE TABLE t(id INT PRIMARY KEY, v TEXT CHARACTER SET cp1251)", "");
    MyDatabases db("my_cs_bad", "CREATE TABLE t(id INT PRIMARY KEY, v TEXT CHARACTER SET cp1251)",
                   "CREATE TABLE t(id int PRIMARY KEY, v text)");
    Replicator r(db.args(), fresh_log("my_cs_bad"));
    other.source->exec("INSERT INTO t VALUES (1, CONVERT(X'98' USING cp1251))");
    db.source->exec("INSERT INTO t VALUES (1, CONVERT(X'cff0e8e2e5f2' USING cp1251))");
    ASSERT_TRUE(harness::wait_for([&] { return db.target->count("t") == 1; }, 60s)) << r.log();
    EXPECT_EQ(db.target->value("SELECT v FROM t"), "Привет");
    db.source->exec(
        "BEGIN; INSERT INTO t VALUES (2, 'fine'); INSERT INTO t VALUES (3, CONVERT(X'419842' "
        "USING cp1251)); COMMIT");
    EXPECT_EQ(r.wait(60s), 1) << r.log();
    EXPECT_NE(r.log().find("table my_cs_bad.t column v: is not valid cp1251 text: byte 1 (0x98) "
                           "does not start a character the source server converts to Unicode"),
              std::string::npos)
        << r.log();
    EXPECT_NE(r.log().find("CHARACTER SET utf8mb4"), std::string::npos) << r.log();
    EXPECT_EQ(db.target->count("t"), 1);
}

}  // namespace
