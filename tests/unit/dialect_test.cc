#include "target/dialect.h"

#include "base/error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rep::target {
namespace {

TargetColumn col(std::string name, std::string cast_type, int pk_position = 0) {
    TargetColumn c;
    c.name = std::move(name);
    c.cast_type = std::move(cast_type);
    c.pk_position = pk_position;
    return c;
}

TableName table_name(std::string table) {
    return TableName{SchemaRef::parse("defaultdb.public", "--targetSchema"), std::move(table)};
}

// items (id bigint PRIMARY KEY, name text, qty integer)
TargetTable items() {
    TargetTable t;
    t.name = table_name("items");
    t.columns = {col("id", "bigint", 1), col("name", "text"), col("qty", "integer")};
    t.pk = {0};
    return t;
}

// pairs (v character varying, b text, a integer, PRIMARY KEY (a, b)): key order differs from
// column order.
TargetTable pairs() {
    TargetTable t;
    t.name = table_name("pairs");
    t.columns = {col("v", "character varying"), col("b", "text", 2), col("a", "integer", 1)};
    t.pk = {2, 1};
    return t;
}

const Dialect kPostgres(TargetProduct::kPostgres);
const Dialect kCockroach(TargetProduct::kCockroach);

TEST(Dialect, Names) {
    EXPECT_STREQ(kPostgres.name(), "PostgreSQL");
    EXPECT_STREQ(kCockroach.name(), "CockroachDB");
    EXPECT_FALSE(kPostgres.qualify_database());
    EXPECT_TRUE(kCockroach.qualify_database());
}

TEST(Dialect, DetectsProductFromVersionString) {
    EXPECT_EQ(detect_product("PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu"),
              TargetProduct::kPostgres);
    EXPECT_EQ(detect_product("CockroachDB CCL v23.2.4 (x86_64-pc-linux-gnu, built 2024/04/08)"),
              TargetProduct::kCockroach);
}

TEST(Dialect, PostgresUpsertUpdatesNonKeyColumns) {
    EXPECT_EQ(
        kPostgres.upsert(items(), {0, 1, 2}),
        R"(INSERT INTO "public"."items" ("id", "name", "qty") )"
        R"(SELECT u.c0::bigint, u.c1::text, u.c2::integer )"
        R"(FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c0, c1, c2) )"
        R"(ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "qty" = excluded."qty")");
}

TEST(Dialect, PostgresUpsertOfASubsetOfColumns) {
    // E.g. an UPDATE whose unchanged TOASTed column was not sent: only present columns change.
    EXPECT_EQ(
        kPostgres.upsert(items(), {0, 2}),
        R"(INSERT INTO "public"."items" ("id", "qty") )"
        R"(SELECT u.c0::bigint, u.c1::integer FROM unnest($1::text[], $2::text[]) AS u(c0, c1) )"
        R"(ON CONFLICT ("id") DO UPDATE SET "qty" = excluded."qty")");
}

TEST(Dialect, PostgresUpsertOfKeyOnlyDoesNothingOnConflict) {
    EXPECT_EQ(kPostgres.upsert(items(), {0}),
              R"(INSERT INTO "public"."items" ("id") SELECT u.c0::bigint FROM unnest($1::text[]) )"
              R"(AS u(c0) ON CONFLICT ("id") DO NOTHING)");
}

TEST(Dialect, PostgresUpsertWithCompositeKey) {
    EXPECT_EQ(kPostgres.upsert(pairs(), {0, 1, 2}),
              R"(INSERT INTO "public"."pairs" ("v", "b", "a") )"
              R"(SELECT u.c0::character varying, u.c1::text, u.c2::integer )"
              R"(FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c0, c1, c2) )"
              R"(ON CONFLICT ("a", "b") DO UPDATE SET "v" = excluded."v")");
}

TEST(Dialect, PostgresUpsertOverridesIdentityAlways) {
    TargetTable t = items();
    t.columns[0].identity_always = true;
    EXPECT_EQ(kPostgres.upsert(t, {0, 1}),
              R"(INSERT INTO "public"."items" ("id", "name") OVERRIDING SYSTEM VALUE )"
              R"(SELECT u.c0::bigint, u.c1::text FROM unnest($1::text[], $2::text[]) AS u(c0, c1) )"
              R"(ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name")");
}

TEST(Dialect, MoveChangesTheKeyInPlaceAndKeepsOtherColumns) {
    // A key change that did not carry every column: the row found by its old key gets the new
    // values; columns not listed keep theirs.
    EXPECT_EQ(kPostgres.move_by_pk(pairs(), {1, 2}),
              R"(UPDATE "public"."pairs" AS target_row SET "b" = u.c0::text, "a" = u.c1::integer )"
              R"(FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(c0, c1, k0, k1) )"
              R"(WHERE (target_row."a", target_row."b") = (u.k0::integer, u.k1::text))");
    EXPECT_EQ(kCockroach.move_by_pk(items(), {0, 2}),
              R"(UPDATE "defaultdb"."public"."items" AS target_row SET "id" = u.c0::bigint, )"
              R"("qty" = u.c1::integer FROM unnest($1::text[], $2::text[], $3::text[]) AS )"
              R"(u(c0, c1, k0) WHERE (target_row."id") = (u.k0::bigint))");
}

TEST(Dialect, ExprsComputeTheWrittenValueOnTheTarget) {
    // MOLT's exprs: $0 stands for the value, cast to the column's type as it would be
    // written; "$01" is not it; an expr without $0 is a constant.
    TargetTable t = items();
    t.columns[1].expr = "upper($0) || '$01' || $0";
    t.columns[2].expr = "7";
    EXPECT_EQ(kPostgres.upsert(t, {0, 1, 2}),
              R"(INSERT INTO "public"."items" ("id", "name", "qty") SELECT u.c0::bigint, )"
              R"(upper((u.c1::text)) || '$01' || (u.c1::text), 7 FROM unnest($1::text[], )"
              R"($2::text[], $3::text[]) AS u(c0, c1, c2) ON CONFLICT ("id") DO UPDATE SET )"
              R"("name" = excluded."name", "qty" = excluded."qty")");
    EXPECT_EQ(
        kCockroach.move_by_pk(t, {0, 1}),
        R"(UPDATE "defaultdb"."public"."items" AS target_row SET "id" = u.c0::bigint, )"
        R"("name" = upper((u.c1::text)) || '$01' || (u.c1::text) FROM unnest($1::text[], )"
        R"($2::text[], $3::text[]) AS u(c0, c1, k0) WHERE (target_row."id") = (u.k0::bigint))");
    // Deletes find rows by the key as sent (exprs are refused on key columns).
    EXPECT_EQ(kPostgres.delete_by_pk(t),
              R"(DELETE FROM "public"."items" WHERE ("id") IN (SELECT u.c0::bigint FROM )"
              R"(unnest($1::text[]) AS u(c0)))");
    EXPECT_EQ(find_value_placeholder("a $01 b"), std::string::npos);
    EXPECT_EQ(find_value_placeholder("$0"), 0u);
    EXPECT_EQ(find_value_placeholder("f($01, $0)"), 7u);
}

TEST(Dialect, QuotesIdentifiers) {
    TargetTable t;
    t.name = TableName{SchemaRef::parse(R"("My Schema")", "--targetSchema"), R"(we"ird)"};
    t.columns = {col("Id", "integer", 1), col(R"(a "b")", "text")};
    t.pk = {0};
    EXPECT_EQ(
        kPostgres.upsert(t, {0, 1}),
        R"(INSERT INTO "My Schema"."we""ird" ("Id", "a ""b""") )"
        R"(SELECT u.c0::integer, u.c1::text FROM unnest($1::text[], $2::text[]) AS u(c0, c1) )"
        R"(ON CONFLICT ("Id") DO UPDATE SET "a ""b""" = excluded."a ""b""")");
}

TEST(Dialect, CockroachUpsert) {
    EXPECT_EQ(kCockroach.upsert(items(), {0, 1, 2}),
              R"(UPSERT INTO "defaultdb"."public"."items" ("id", "name", "qty") )"
              R"(SELECT u.c0::bigint, u.c1::text, u.c2::integer )"
              R"(FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c0, c1, c2))");
    EXPECT_EQ(kCockroach.upsert(items(), {0}),
              R"(UPSERT INTO "defaultdb"."public"."items" ("id") )"
              R"(SELECT u.c0::bigint FROM unnest($1::text[]) AS u(c0))");
    TargetTable t = items();
    t.columns[0].identity_always = true;
    EXPECT_EQ(
        kCockroach.upsert(t, {0, 1}),
        R"(UPSERT INTO "defaultdb"."public"."items" ("id", "name") )"
        R"(SELECT u.c0::bigint, u.c1::text FROM unnest($1::text[], $2::text[]) AS u(c0, c1))");
}

TEST(Dialect, CockroachWithoutDatabaseInTheSchema) {
    TargetTable t = items();
    t.name = TableName{SchemaRef::parse("public", "--targetSchema"), "items"};
    EXPECT_EQ(kCockroach.delete_by_pk(t),
              R"(DELETE FROM "public"."items" WHERE ("id") IN )"
              R"((SELECT u.c0::bigint FROM unnest($1::text[]) AS u(c0)))");
}

TEST(Dialect, DeleteByPrimaryKey) {
    EXPECT_EQ(kPostgres.delete_by_pk(items()),
              R"(DELETE FROM "public"."items" WHERE ("id") IN )"
              R"((SELECT u.c0::bigint FROM unnest($1::text[]) AS u(c0)))");
    // Parameters follow the primary key order, not the column order.
    EXPECT_EQ(
        kPostgres.delete_by_pk(pairs()),
        R"(DELETE FROM "public"."pairs" WHERE ("a", "b") IN )"
        R"((SELECT u.c0::integer, u.c1::text FROM unnest($1::text[], $2::text[]) AS u(c0, c1)))");
    EXPECT_EQ(
        kCockroach.delete_by_pk(pairs()),
        R"(DELETE FROM "defaultdb"."public"."pairs" WHERE ("a", "b") IN )"
        R"((SELECT u.c0::integer, u.c1::text FROM unnest($1::text[], $2::text[]) AS u(c0, c1)))");
}

TEST(Dialect, PostgresTruncate) {
    TargetTable a = items();
    TargetTable b = pairs();
    EXPECT_EQ(kPostgres.truncate({&a, &b}, false, false),
              (std::vector<std::string>{R"(TRUNCATE "public"."items", "public"."pairs")"}));
    EXPECT_EQ(kPostgres.truncate({&a}, false, true),
              (std::vector<std::string>{R"(TRUNCATE "public"."items" RESTART IDENTITY)"}));
    EXPECT_EQ(kPostgres.truncate({&a, &b}, true, true),
              (std::vector<std::string>{
                  R"(TRUNCATE "public"."items", "public"."pairs" RESTART IDENTITY CASCADE)"}));
}

TEST(Dialect, CockroachTruncateIsATransactionalDelete) {
    TargetTable a = items();
    TargetTable b = pairs();
    std::vector<std::string> expected = {R"(DELETE FROM "defaultdb"."public"."items" WHERE true)",
                                         R"(DELETE FROM "defaultdb"."public"."pairs" WHERE true)"};
    EXPECT_EQ(kCockroach.truncate({&a, &b}, false, false), expected);
    EXPECT_EQ(kCockroach.truncate({&a, &b}, true, true), expected);
}

// customers <- orders <- order_lines (each references the one before), and notes, alone.
TEST(Dialect, CockroachTruncateDeletesChildrenBeforeParents) {
    TargetTable customers = items();
    customers.name = table_name("customers");
    TargetTable orders = items();
    orders.name = table_name("orders");
    TargetTable lines = items();
    lines.name = table_name("order_lines");
    TargetTable notes = items();
    notes.name = table_name("notes");
    Dialect::ForeignKeys fks = {{"public.orders", "public.customers"},
                                {"public.order_lines", "public.orders"},
                                {"public.customers", "public.customers"}};  // self-reference
    auto order = kCockroach.truncate({&customers, &notes, &orders, &lines}, false, false, fks);
    std::vector<std::string> expected = {
        R"(DELETE FROM "defaultdb"."public"."notes" WHERE true)",
        R"(DELETE FROM "defaultdb"."public"."order_lines" WHERE true)",
        R"(DELETE FROM "defaultdb"."public"."orders" WHERE true)",
        R"(DELETE FROM "defaultdb"."public"."customers" WHERE true)"};
    EXPECT_EQ(order, expected);
    // PostgreSQL's TRUNCATE of all of them at once needs no order.
    EXPECT_EQ(kPostgres.truncate({&customers, &orders}, false, false, fks).size(), 1u);
}

TEST(Dialect, CockroachTruncateRefusesWhenATableLeftOutReferencesOne) {
    TargetTable customers = items();
    customers.name = table_name("customers");
    Dialect::ForeignKeys fks = {{"public.audit", "public.customers"}};
    try {
        kCockroach.truncate({&customers}, false, false, fks);
        FAIL() << "a DELETE could cascade into public.audit";
    } catch (const Error& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("table public.audit references it"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("--truncateMode ignore"), std::string::npos);
    }
}

}  // namespace
}  // namespace rep::target
