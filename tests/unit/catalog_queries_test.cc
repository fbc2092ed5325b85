// The catalog queries read another database's pg_catalog where CockroachDB's --targetSchema
// names one: "otherdb".pg_catalog.pg_class, not the connection's own.

#include "target/catalog_queries.h"

#include "target/dialect.h"

#include <gtest/gtest.h>

namespace rep::target {
namespace {

TEST(CatalogQueries, ReadsTheNamedDatabasesCatalog) {
    const std::string sql =
        "SELECT format_type(a.atttypid, NULL), pg_typeof(1) FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON "
        "true, pg_index i, pg_constraint k, pg_collation co";
    EXPECT_EQ(in_database(sql, ""), sql);
    EXPECT_EQ(in_database("FROM pg_class c", "a$1$&"), R"(FROM "a$1$&".pg_catalog.pg_class c)");
    EXPECT_EQ(
        in_database(sql, "my db"),
        R"(SELECT format_type(a.atttypid, NULL), pg_typeof(1) FROM "my db".pg_catalog.pg_class )"
        R"(c JOIN "my db".pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN )"
        R"("my db".pg_catalog.pg_attribute a ON a.attrelid = c.oid JOIN )"
        R"("my db".pg_catalog.pg_type t ON true, "my db".pg_catalog.pg_index i, )"
        R"("my db".pg_catalog.pg_constraint k, "my db".pg_catalog.pg_collation co)");
}

TEST(CatalogQueries, OnlyCockroachReadsAnotherDatabase) {
    SchemaRef other = SchemaRef::parse("otherdb.public", "--targetSchema");
    EXPECT_EQ(Dialect(TargetProduct::kCockroach).catalog_database(other), "otherdb");
    // PostgreSQL cannot; the runner refuses a --targetSchema naming another database.
    EXPECT_EQ(Dialect(TargetProduct::kPostgres).catalog_database(other), "");
    EXPECT_EQ(Dialect(TargetProduct::kCockroach)
                  .catalog_database(SchemaRef::parse("public", "--targetSchema")),
              "");
}

}  // namespace
}  // namespace rep::target
