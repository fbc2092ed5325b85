// The SQL_REDO scanner and value rendering of the Oracle source, on statements written from
// LogMiner's documented formats (the design reference's §1.7 and its edge-case fixtures).

#include "source/oracle/sql_redo.h"

#include "base/error.h"
#include "source/oracle/redo_values.h"

#include <gtest/gtest.h>

namespace rep::oracle {
namespace {

using Kind = RedoValue::Kind;
using Op = RedoStatement::Op;

std::string text(const RedoValue& v) {
    auto t = pg_text(v);
    return t ? *t : "<NULL>";
}

// "name=value" for each column, values as the target receives them.
std::string dump(const std::vector<RedoColumn>& cols) {
    std::string out;
    for (const RedoColumn& c : cols) {
        out += (out.empty() ? "" : "|") + c.name + "=" + text(c.value);
    }
    return out;
}

std::string error_of(std::string_view sql) {
    try {
        RedoStatement st = parse_sql_redo(sql);
        dump(st.values);  // rendering may fail too
        dump(st.where);
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        return e.what();
    }
    return "";
}

TEST(SqlRedo, InsertUpdateDeleteAsLogMinerWritesThem) {
    RedoStatement ins = parse_sql_redo(
        R"(insert into "APP"."ORDERS"("ID","NAME","AMOUNT","NOTE") values ('1001','O''Hara','12.5',NULL);)");
    EXPECT_EQ(ins.op, Op::kInsert);
    EXPECT_EQ(ins.schema, "APP");
    EXPECT_EQ(ins.table, "ORDERS");
    EXPECT_EQ(dump(ins.values), "ID=1001|NAME=O'Hara|AMOUNT=12.5|NOTE=<NULL>");

    RedoStatement up = parse_sql_redo(
        R"(update "APP"."ORDERS" set "AMOUNT" = '13', "NOTE" = NULL where "ID" = '1001' and "AMOUNT" = '12.5' and "NOTE" = 'x';)");
    EXPECT_EQ(up.op, Op::kUpdate);
    EXPECT_EQ(dump(up.values), "AMOUNT=13|NOTE=<NULL>");
    EXPECT_EQ(dump(up.where), "ID=1001|AMOUNT=12.5|NOTE=x");

    RedoStatement del = parse_sql_redo(
        R"(delete from "APP"."ORDERS" where "ID" = '1001' and "NAME" = 'O''Hara' and "AMOUNT" = '13' and "NOTE" IS NULL;)");
    EXPECT_EQ(del.op, Op::kDelete);
    EXPECT_TRUE(del.values.empty());
    EXPECT_EQ(dump(del.where), "ID=1001|NAME=O'Hara|AMOUNT=13|NOTE=<NULL>");
}

// Fixtures 1-4 and 28 of the reference: quoted numbers, a key update, ROWID terms that are not
// columns, SQL-like text inside a literal, and identifiers of every shape.
TEST(SqlRedo, EdgeCasesOfTheGrammar) {
    EXPECT_EQ(dump(parse_sql_redo(R"(insert into "APP"."T"("ID","N","S") values ('1','-.5',NULL);)")
                       .values),
              "ID=1|N=-.5|S=<NULL>");
    RedoStatement key = parse_sql_redo(R"(update "APP"."T" set "ID" = '2' where "ID" = '1';)");
    EXPECT_EQ(dump(key.values), "ID=2");
    EXPECT_EQ(dump(key.where), "ID=1");
    RedoStatement rowid = parse_sql_redo(
        R"(delete from "APP"."T" where "ID" = '2' and "N" = '-.5' and "S" IS NULL and ROWID = 'AAAR3sAAEAAAACXAAC';)");
    EXPECT_EQ(dump(rowid.where), "ID=2|N=-.5|S=<NULL>");
    EXPECT_EQ(
        dump(
            parse_sql_redo(
                R"(insert into "APP"."T"("ID","S") values ('4','a'', "B" = ''x'' and ROWID = ''y'' ; ||');)")
                .values),
        R"(ID=4|S=a', "B" = 'x' and ROWID = 'y' ; ||)");
    RedoStatement names = parse_sql_redo(
        R"(insert into "APP"."O'Brien" ("Order Items","COL#1","camelCase","A$B") values ('1','2','3','4'))");
    EXPECT_EQ(names.table, "O'Brien");
    EXPECT_EQ(dump(names.values), "Order Items=1|COL#1=2|camelCase=3|A$B=4");
    RedoStatement alias =
        parse_sql_redo(R"(update "APP"."T" a set a."X" = '1' where a."ID" = '2';)");
    EXPECT_EQ(dump(alias.values), "X=1");
    EXPECT_EQ(dump(alias.where), "ID=2");
    RedoStatement no_where = parse_sql_redo(R"(update "APP"."T" set "X" = '1';)");
    EXPECT_TRUE(no_where.where.empty());
    RedoStatement not_null =
        parse_sql_redo(R"(update "APP"."T" set "X" = '1' where "ID" = '2' and "Y" IS NOT NULL)");
    EXPECT_EQ(dump(not_null.where), "ID=2");
}

// Fixtures 7-11 of the reference: temporal, interval, raw and national values.
TEST(SqlRedo, ValuesRenderAsTheTargetParsesThem) {
    auto one = [](const std::string& value) {
        return text(
            parse_sql_redo(R"(insert into "APP"."T"("V") values ()" + value + ")").values[0].value);
    };
    EXPECT_EQ(one("TO_DATE('2024-02-29 23:59:59', 'YYYY-MM-DD HH24:MI:SS')"),
              "2024-02-29 23:59:59");
    EXPECT_EQ(one("TO_TIMESTAMP('2024-01-15 10:30:00.123456789')"), "2024-01-15 10:30:00.123456");
    EXPECT_EQ(one("TO_TIMESTAMP('2020-02-01 00:00:00.')"), "2020-02-01 00:00:00");
    EXPECT_EQ(one("TO_TIMESTAMP_TZ('2024-03-10 01:59:59.000000000 -05:00')"),
              "2024-03-10 01:59:59.000000-05:00");
    EXPECT_EQ(one("TO_TIMESTAMP_TZ('2024-02-14 10:58:02.202590 +01:00')"),
              "2024-02-14 10:58:02.202590+01:00");
    EXPECT_EQ(one("TO_YMINTERVAL('-01-06')"), "-1 years -6 months");
    EXPECT_EQ(one("TO_YMINTERVAL('+02-03')"), "2 years 3 months");
    EXPECT_EQ(one("TO_DSINTERVAL('+02 03:04:05.678900000')"), "2 days 03:04:05.678900");
    EXPECT_EQ(one("TO_DSINTERVAL('-001 02:03:04.56')"), "-1 days -02:03:04.56");
    EXPECT_EQ(one("HEXTORAW('00Ff10')"), "\\x00ff10");
    EXPECT_EQ(one("UNISTR('caf\\00e9 \\d83d\\de00') || UNISTR('\\0041')"), "café 😀A");
    EXPECT_EQ(one("UNISTR('a\\\\b')"), "a\\b");
    EXPECT_EQ(one("'long ' || 'text'"), "long text");
    EXPECT_EQ(one("'1.0E+125'"), "1.0E+125");
    EXPECT_EQ(one("123.5"), "123.5");  // bare numbers are accepted too
    EXPECT_EQ(one("EMPTY_CLOB()"), "");
}

// What the scanner refuses, naming what it expected: unpinned NLS (fixture 8), values LogMiner
// cannot render (25, 26), temporary tables (29), and a quote LogMiner left unescaped.
TEST(SqlRedo, RefusesWhatItCannotReadSafely) {
    EXPECT_NE(error_of(R"(insert into "APP"."T"("V") values (TO_DATE('29-FEB-24', 'DD-MON-RR')))")
                  .find("TO_DATE with the mask 'YYYY-MM-DD HH24:MI:SS'"),
              std::string::npos);
    EXPECT_NE(
        error_of(
            R"(insert into "APP"."T"("V") values (TO_TIMESTAMP('24-09-10 12:53:38,487742000')))")
            .find("not in the format the replicator pins"),
        std::string::npos);
    EXPECT_NE(error_of(R"(insert into "APP"."T"("ID","D") values ('1',Unsupported Type))")
                  .find("cannot render (Unsupported Type)"),
              std::string::npos);
    EXPECT_NE(
        error_of(R"(insert into "APP"."T"("ID","J") values ('1',/* JSON */ HEXTORAW('ff4a5a01')))")
            .find("native JSON"),
        std::string::npos);
    EXPECT_NE(error_of("/* No SQL_REDO for temporary tables */").find("insert, update or delete"),
              std::string::npos);
    std::string unescaped = error_of(R"(insert into "APP"."T"("ID","S") values ('1','it's'))");
    EXPECT_NE(unescaped.find("SQL_REDO cannot be read at character"), std::string::npos)
        << unescaped;
    EXPECT_NE(error_of(R"(insert into "APP"."T"("A","B") values ('1'))").find("1 values for 2"),
              std::string::npos);
    EXPECT_NE(error_of(R"(insert into "APP"."T"("A") values ('1', '2'))").find("no more values"),
              std::string::npos);
}

}  // namespace
}  // namespace rep::oracle
