// Which target foreign key actions reach past the tables the source sends.

#include "target/boundary_check.h"

#include <gtest/gtest.h>

namespace rep::target {
namespace {

ReferentialAction fk(std::string from, std::string to, char on_delete, char on_update = 'a',
                     std::string from_schema = "public") {
    ReferentialAction a;
    a.constraint = from + "_fk";
    a.from_schema = std::move(from_schema);
    a.from_table = std::move(from);
    a.to_schema = "public";
    a.to_table = std::move(to);
    a.on_delete = on_delete;
    a.on_update = on_update;
    return a;
}

const std::vector<std::string> kReplicated = {"orders", "customers"};

TEST(BoundaryCheck, ActionsBetweenReplicatedTablesAreFine) {
    // The source deletes the child rows itself and sends those deletes.
    EXPECT_TRUE(
        actions_crossing_the_boundary({fk("orders", "customers", 'c')}, "public", kReplicated)
            .empty());
}

TEST(BoundaryCheck, ActionsFromATableLeftOutAreNamed) {
    auto lines = actions_crossing_the_boundary(
        {fk("audit", "customers", 'c'), fk("notes", "orders", 'n', 'd'),
         fk("tags", "orders", 'a', 'n')},
        "public", kReplicated);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0],
              "public.audit (not replicated) references public.customers ON DELETE CASCADE "
              "(constraint audit_fk)");
    EXPECT_EQ(lines[1],
              "public.notes (not replicated) references public.orders ON DELETE SET NULL ON "
              "UPDATE SET DEFAULT (constraint notes_fk)");
    EXPECT_EQ(lines[2],
              "public.tags (not replicated) references public.orders ON UPDATE SET NULL "
              "(constraint tags_fk)");
}

TEST(BoundaryCheck, ATableOfTheSameNameInAnotherSchemaIsNotReplicated) {
    auto lines = actions_crossing_the_boundary({fk("orders", "customers", 'c', 'a', "archive")},
                                               "public", kReplicated);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("archive.orders (not replicated)"), std::string::npos);
}

TEST(BoundaryCheck, ActionsThatLeaveTheReferencingRowsAloneAreFine) {
    // NO ACTION and RESTRICT make the delete fail with an error naming the row; ON UPDATE
    // CASCADE keeps the reference on the same row.
    EXPECT_TRUE(actions_crossing_the_boundary(
                    {fk("audit", "customers", 'a', 'c'), fk("log", "customers", 'r', 'r')},
                    "public", kReplicated)
                    .empty());
}

TEST(BoundaryCheck, ReferencesToTablesLeftOutAreNotOurs) {
    EXPECT_TRUE(
        actions_crossing_the_boundary({fk("audit", "users", 'c')}, "public", kReplicated).empty());
}

}  // namespace
}  // namespace rep::target
