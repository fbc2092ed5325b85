// The catalog queries read another database's pg_catalog where CockroachDB's --targetSchema
// names one: "otherdb".pg_catalog.pg_class, not the connection's own.

#include "target/catalog_queries.h"

#include "base/error.h"
#include "core/mutation.h"
#include "target/dialect.h"
#include "target/table_mapping.h"

#include <gtest/gtest.h>

#include <memory>

namespace rep::target {
namespace {

// A target that answers the catalog queries of load_target_table() with fixed rows, as a
// CockroachDB server would: the layout query (table, name, cast type, generated, identity
// always, primary key position, user-defined type), the order-sensitivity query (table,
// whether), and information_schema.columns' hidden columns that CockroachDB fills in itself
// (table, column).
class CatalogAnswers final : public util::TargetSession {
public:
    std::vector<Row> layout;
    std::vector<Row> hidden;
    // table, referencing or referenced by a foreign key, unique-constrained
    std::vector<Row> order = {{"events", "f", "f"}};
    std::vector<std::string> asked;

    void connect() override {}
    bool connected() const override { return true; }
    bool in_transaction() const override { return false; }
    void execute(const std::string&, const Params&) override {}
    void exec_pipeline(const std::vector<PipelineCall>&, size_t*) override {}
    std::vector<Row> query(const std::string& sql, const Params&) override {
        asked.push_back(sql);
        if (sql.find("information_schema.columns") != std::string::npos) {
            return hidden;
        }
        if (sql.find("EXISTS") != std::string::npos) {
            return order;
        }
        return layout;
    }
};

TargetTable load(CatalogAnswers& db, bool cockroach, const std::string& database = {}) {
    auto t = load_target_table(db, TableName{SchemaRef::parse("public", "t"), "events"}, database,
                               cockroach);
    EXPECT_TRUE(t.has_value());
    return t.value_or(TargetTable{});
}

std::shared_ptr<const Relation> source_with_key(const std::vector<std::string>& cols) {
    auto r = std::make_shared<Relation>();
    r->schema = "public";
    r->name = "events";
    for (const std::string& name : cols) {
        SourceColumn c;
        c.name = name;
        c.is_key = name == "id";
        r->columns.push_back(c);
    }
    return r;
}

// The shapes below follow CockroachDB's documented SHOW COLUMNS output
// (hash-sharded-indexes.md, table-localities.md, primary-key.md): a hash-sharded primary key
// (id) USING HASH is stored as (crdb_internal_id_shard_16, id), the shard column hidden and
// computed; a REGIONAL BY ROW table's key is (crdb_region, id), crdb_region hidden with the
// default gateway_region(); a table created without a primary key is keyed by a hidden rowid
// with the default unique_rowid().
TEST(CatalogQueries, CockroachHashShardedKeyIsTheColumnsTheSourceSends) {
    CatalogAnswers db;
    db.layout = {{"events", "crdb_internal_id_shard_16", "int8", "t", "f", "1", "f"},
                 {"events", "id", "int8", "f", "f", "2", "f"},
                 {"events", "payload", "text", "f", "f", "0", "f"}};
    db.hidden = {{"events", "crdb_internal_id_shard_16"}};
    TargetTable t = load(db, true);
    ASSERT_EQ(t.pk.size(), 1u);
    EXPECT_EQ(t.columns[t.pk[0]].name, "id");
    EXPECT_EQ(t.implicit_key, std::vector<std::string>{"crdb_internal_id_shard_16"});
    EXPECT_EQ(t.columns[0].pk_position, 0);
    // The source's rows map onto it and are keyed by id alone.
    auto shared = std::make_shared<const TargetTable>(t);
    TableMapping m(shared, source_with_key({"id", "payload"}));
    std::vector<Datum> row = m.project({Datum::value("7"), Datum::value("x")});
    EXPECT_TRUE(m.has_key(row));
    EXPECT_EQ(m.describe_key(row), "id=7");
}

TEST(CatalogQueries, CockroachRegionalByRowKeyLeavesCrdbRegionToTheDatabase) {
    CatalogAnswers db;
    db.layout = {
        {"events", "id", "uuid", "f", "f", "2", "f"},
        {"events", "name", "text", "f", "f", "0", "f"},
        {"events", "crdb_region", "\"public\".\"crdb_internal_region\"", "f", "f", "1", "t"}};
    db.hidden = {{"events", "crdb_region"}};
    TargetTable t = load(db, true, "movr");
    ASSERT_EQ(t.pk.size(), 1u);
    EXPECT_EQ(t.columns[t.pk[0]].name, "id");
    EXPECT_EQ(t.implicit_key, std::vector<std::string>{"crdb_region"});
    // The other database's information_schema is read, as its pg_catalog is.
    bool read_movr = false;
    for (const std::string& sql : db.asked) {
        read_movr =
            read_movr || sql.find("\"movr\".information_schema.columns") != std::string::npos;
    }
    EXPECT_TRUE(read_movr);
    TableMapping m(std::make_shared<const TargetTable>(t), source_with_key({"id", "name"}));
    EXPECT_EQ(m.describe_key(m.project({Datum::value("a"), Datum::value("b")})), "id=a");
}

TEST(CatalogQueries, CockroachRowidTableIsRefusedWithTheFix) {
    CatalogAnswers db;
    db.layout = {{"events", "id", "int8", "f", "f", "0", "f"},
                 {"events", "payload", "text", "f", "f", "0", "f"},
                 {"events", "rowid", "int8", "f", "f", "1", "f"}};
    db.hidden = {{"events", "rowid"}};
    TargetTable t = load(db, true);
    EXPECT_TRUE(t.pk.empty());
    try {
        TableMapping m(std::make_shared<const TargetTable>(t), source_with_key({"id", "payload"}));
        FAIL() << "a table keyed by rowid was accepted";
    } catch (const Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("hidden column rowid"), std::string::npos) << what;
        EXPECT_NE(what.find(R"(ALTER PRIMARY KEY USING COLUMNS ("id"))"), std::string::npos)
            << what;
    }
}

TEST(CatalogQueries, PostgresKeysAreTakenAsTheyAre) {
    // PostgreSQL has no hidden columns: information_schema is not asked, and a key column
    // that the database computes stays in the key (the source must send it).
    CatalogAnswers db;
    db.layout = {{"events", "id", "int8", "f", "f", "1", "f"},
                 {"events", "part", "int4", "t", "f", "2", "f"}};
    db.hidden = {{"events", "part"}};
    TargetTable t = load(db, false);
    EXPECT_EQ(t.pk.size(), 2u);
    EXPECT_TRUE(t.implicit_key.empty());
    for (const std::string& sql : db.asked) {
        EXPECT_EQ(sql.find("information_schema"), std::string::npos) << sql;
    }
}

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

// Many tables cost one query of each kind, not one per table; a table the catalog does not
// list is absent, and one the order query says nothing about counts as order-sensitive.
TEST(CatalogQueries, ManyTablesAreReadInOneQueryOfEachKind) {
    CatalogAnswers db;
    db.layout = {{"events", "id", "int8", "f", "f", "1", "f"},
                 {"events", "v", "text", "f", "f", "0", "f"},
                 {"orders", "id", "int8", "f", "f", "1", "f"}};
    auto tables = load_target_tables(db, SchemaRef::parse("public", "t"),
                                     {"events", "orders", "missing"}, {}, /*cockroach=*/true);
    EXPECT_EQ(db.asked.size(), 3u);  // layouts, hidden columns, order sensitivity
    ASSERT_EQ(tables.size(), 2u);
    EXPECT_EQ(tables.count("missing"), 0u);
    EXPECT_EQ(tables["events"].columns.size(), 2u);
    EXPECT_EQ(tables["events"].name.table, "events");
    EXPECT_FALSE(tables["events"].order_sensitive);  // the fake answers "f" for events
    EXPECT_TRUE(tables["orders"].order_sensitive);   // and nothing for orders
    EXPECT_TRUE(tables["orders"].unique_constrained);
    ASSERT_EQ(tables["orders"].pk.size(), 1u);
}

TEST(CatalogQueries, AUniqueIndexMakesATableOrderSensitiveAndUniqueConstrained) {
    CatalogAnswers db;
    db.layout = {{"events", "id", "int8", "f", "f", "1", "f"}};
    db.order = {{"events", "f", "t"}};
    TargetTable t = load(db, false);
    EXPECT_TRUE(t.order_sensitive);
    EXPECT_TRUE(t.unique_constrained);
    db.order = {{"events", "t", "f"}};  // a foreign key only
    t = load(db, false);
    EXPECT_TRUE(t.order_sensitive);
    EXPECT_FALSE(t.unique_constrained);
}

}  // namespace
}  // namespace rep::target
