// The catalog shared by a pipeline run's threads: one mapping per relation layout, and no
// two source tables merged into one target table.

#include "target/table_catalog.h"

#include "apply_fixture.h"
#include <gtest/gtest.h>

namespace rep::target {
namespace {

TEST(TableCatalog, OneMappingPerRelationLayout) {
    testing::ApplyFixture f;
    auto rel = f.table("items", {"id", "v"}, 1);
    testing::FakeSession session(f.db);
    auto a = f.catalog.resolve(session, rel);
    EXPECT_EQ(f.catalog.resolve(session, rel), a);
    auto relayout = std::make_shared<Relation>(*rel);  // the source announced it again
    EXPECT_NE(f.catalog.resolve(session, relayout), a);
}

TEST(TableCatalog, TwoSourceSchemasWithOneTableNameAreRefused) {
    testing::ApplyFixture f;
    auto s1 = f.table("dup", {"id", "v"}, 1);
    auto s2 = std::make_shared<Relation>(*s1);
    s2->schema = "other";
    testing::FakeSession session(f.db);
    f.catalog.resolve(session, s1);
    try {
        f.catalog.resolve(session, s2);
        FAIL() << "two source tables were mapped onto one target table";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(msg.find("public.dup and other.dup"), std::string::npos) << msg;
    }
}

}  // namespace
}  // namespace rep::target
