#include "target/table_mapping.h"

#include "base/error.h"
#include "core/mutation.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace rep::target {
namespace {

// TableMapping with hand-built layouts; batch_fold_test.cc covers the BatchBuilder on top.

std::shared_ptr<const Relation> source(std::vector<std::pair<std::string, bool>> cols,
                                       std::string name = "orders") {
    auto r = std::make_shared<Relation>();
    r->id = 16400;
    r->schema = "public";
    r->name = std::move(name);
    for (auto& [col, key] : cols) {
        SourceColumn c;
        c.name = col;
        c.type_oid = 25;
        c.is_key = key;
        r->columns.push_back(std::move(c));
    }
    return r;
}

TargetColumn tcol(std::string name, int pk_position = 0, bool generated = false) {
    TargetColumn c;
    c.name = std::move(name);
    c.cast_type = "text";
    c.pk_position = pk_position;
    c.generated = generated;
    return c;
}

// orders on the target: (note, region pk#2, id pk#1, total, created, total_x2 generated)
std::shared_ptr<const TargetTable> target_orders() {
    auto t = std::make_shared<TargetTable>();
    t->name = TableName{SchemaRef::parse("app", "--targetSchema"), "orders"};
    t->columns = {tcol("note"),  tcol("region", 2), tcol("id", 1),
                  tcol("total"), tcol("created"),   tcol("total_x2", 0, true)};
    t->pk = {2, 1};
    return t;
}

std::vector<Datum> values(std::vector<std::string> texts) {
    std::vector<Datum> out;
    for (auto& t : texts) {
        if (t == "NULL") {
            out.push_back(Datum::null());
        } else if (t == "<absent>") {
            out.push_back(Datum{});
        } else {
            out.push_back(Datum::value(std::move(t)));
        }
    }
    return out;
}

std::string show(const std::vector<Datum>& row) {
    std::string out;
    for (size_t i = 0; i < row.size(); ++i) {
        out += (i > 0 ? "|" : "");
        out += row[i].is_null() ? "NULL" : row[i].absent() ? "<absent>" : row[i].text;
    }
    return out;
}

TEST(TableMapping, ProjectsSourceColumnsByName) {
    auto src = source(
        {{"id", true}, {"region", true}, {"total", false}, {"note", false}, {"total_x2", false}});
    TableMapping m(target_orders(), src);
    EXPECT_EQ(&m.source(), src.get());
    EXPECT_EQ(m.target().name.display(), "app.orders");
    // Target order; `created` is not in the source and `total_x2` is generated on the target,
    // so both stay absent.
    EXPECT_EQ(show(m.project(values({"42", "eu", "9.50", "NULL", "19.00"}))),
              "NULL|eu|42|9.50|<absent>|<absent>");
    // Absent source values (unchanged TOAST) stay absent.
    EXPECT_EQ(show(m.project(values({"42", "eu", "<absent>", "hi", "19.00"}))),
              "hi|eu|42|<absent>|<absent>|<absent>");
}

TEST(TableMapping, KeyPresenceAndEncoding) {
    TableMapping m(target_orders(), source({{"id", true}, {"region", true}, {"total", false}}));
    auto row = m.project(values({"42", "eu", "1"}));
    EXPECT_TRUE(m.has_key(row));
    EXPECT_EQ(m.missing_key_column(row), "");
    EXPECT_EQ(m.describe_key(row), "id=42, region=eu");

    auto no_region = m.project(values({"42", "<absent>", "1"}));
    EXPECT_FALSE(m.has_key(no_region));
    EXPECT_EQ(m.missing_key_column(no_region), "region");
    EXPECT_EQ(m.describe_key(no_region), "id=42, region=<absent>");

    // Equal keys encode equally whatever the other columns hold.
    EXPECT_EQ(m.key(row), m.key(m.project(values({"42", "eu", "2"}))));
    // Keys differ when any key column differs, and the encoding is unambiguous.
    EXPECT_NE(m.key(row), m.key(m.project(values({"43", "eu", "1"}))));
    EXPECT_NE(m.key(m.project(values({"4", "2eu", "1"}))),
              m.key(m.project(values({"42", "eu", "1"}))));
    EXPECT_NE(m.key(m.project(values({"", "eu", "1"}))),
              m.key(m.project(values({"NULL", "eu", "1"}))));
    auto null_id = m.project(values({"NULL", "eu", "1"}));
    EXPECT_TRUE(m.has_key(null_id)) << "NULL is a value, not a missing column";
    EXPECT_EQ(m.describe_key(null_id), "id=NULL, region=eu");
}

TEST(TableMapping, DescribeKeyShortensLongValues) {
    TableMapping m(target_orders(), source({{"id", true}, {"region", true}}));
    std::string long_id(500, '7');
    EXPECT_EQ(m.describe_key(m.project(values({long_id, "eu"}))),
              "id=" + std::string(100, '7') + ", region=eu");
}

TEST(TableMapping, SchemaDriftNamesTableAndColumn) {
    try {
        TableMapping m(target_orders(),
                       source({{"id", true}, {"region", true}, {"colour", false}}));
        FAIL() << "expected rep::Error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(msg.find("schema drift"), std::string::npos) << msg;
        EXPECT_NE(msg.find("public.orders"), std::string::npos) << msg;
        EXPECT_NE(msg.find("\"colour\""), std::string::npos) << msg;
        EXPECT_NE(msg.find("app.orders"), std::string::npos) << msg;
        EXPECT_NE(msg.find("ALTER TABLE app.orders ADD COLUMN \"colour\""), std::string::npos)
            << msg;
    }
}

// MOLT's v1 `ignore` of a column the target lacks: dropped, neither drift nor extras. (One the
// target has is projected as usual and left out of the table-level handler's answer by the
// script engine, so the handler still sees it.)
TEST(TableMapping, IgnoredColumnsTheTargetLacksAreDropped) {
    ColumnRules rules;
    rules.ignore = {"total", "colour"};
    auto src = source({{"id", true}, {"region", true}, {"total", false}, {"colour", false}});
    TableMapping m(target_orders(), src, rules);
    EXPECT_FALSE(m.has_unmapped());
    EXPECT_EQ(show(m.project(values({"42", "eu", "9.50", "red"}), true)),
              "<absent>|eu|42|9.50|<absent>|<absent>");
    rules.extras = "note";
    TableMapping with_extras(target_orders(), src, rules);
    EXPECT_FALSE(with_extras.writes(0)) << "an ignored column goes nowhere, not into extras";
    EXPECT_EQ(show(with_extras.project(values({"42", "eu", "9.50", "red"}), true)),
              "<absent>|eu|42|9.50|<absent>|<absent>");
}

// MOLT's v1 `extras`: an upsert's source columns the target lacks go into one JSON object in
// the named column, each value as its text (or null). One not sent (an unchanged value) stops
// the upsert: the object written whole would erase the value the target holds.
TEST(TableMapping, ColumnsTheTargetLacksGoIntoTheExtrasColumn) {
    ColumnRules rules;
    rules.extras = "note";
    TableMapping m(target_orders(),
                   source({{"id", true}, {"colour", false}, {"region", true}, {"size", false}}),
                   rules);
    EXPECT_TRUE(m.writes(0));
    EXPECT_EQ(show(m.project(values({"42", "say \"red\"", "eu", "NULL"}), true)),
              R"({"colour":"say \"red\"","size":null}|eu|42|<absent>|<absent>|<absent>)");
    // A delete's (or an old tuple's) projection leaves the column alone.
    EXPECT_EQ(show(m.project(values({"42", "red", "eu", "XL"}))),
              "<absent>|eu|42|<absent>|<absent>|<absent>");
    try {
        m.project(values({"42", "<absent>", "eu", "XL"}), true);
        FAIL() << "an upsert without one of the extras' values was accepted";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("did not send column \"colour\""), std::string::npos) << msg;
        EXPECT_NE(msg.find("extras column of target table app.orders"), std::string::npos) << msg;
    }
    // A layout whose columns all exist on the target leaves the extras column alone.
    TableMapping plain(target_orders(), source({{"id", true}, {"region", true}}), rules);
    EXPECT_FALSE(plain.writes(0));
    EXPECT_EQ(show(plain.project(values({"42", "eu"}), true)),
              "<absent>|eu|42|<absent>|<absent>|<absent>");
}

// An Oracle script names columns as Oracle spells them: NOTE and TOTAL name the target's
// note and total, as an unquoted name would in SQL.
TEST(TableMapping, ColumnRulesInUpperCaseNameTheColumnsTheyFoldTo) {
    ColumnRules rules;
    rules.extras = "NOTE";
    TableMapping m(target_orders(), source({{"id", true}, {"region", true}, {"colour", false}}),
                   rules);
    EXPECT_EQ(show(m.project(values({"42", "eu", "red"}), true)),
              R"({"colour":"red"}|eu|42|<absent>|<absent>|<absent>)");
    TargetTable t = *target_orders();
    apply_exprs(t, {{"TOTAL", "round($0, 2)"}});
    EXPECT_EQ(t.columns[3].expr, "round($0, 2)");
    EXPECT_THROW(apply_exprs(t, {{"Total", "$0"}}), Error) << "only all upper case folds";
}

TEST(TableMapping, ExprsGoOnWritableNonKeyColumnsAndConstantsAreAlwaysWritten) {
    TargetTable t = *target_orders();
    apply_exprs(t, {{"total", "round($0, 2)"}, {"created", "now()"}});
    EXPECT_EQ(t.columns[3].expr, "round($0, 2)");
    EXPECT_EQ(t.columns[4].expr, "now()");
    // `created` is a constant: every upsert writes it, even though the source lacks it, once
    // the row is written (after any handler, which does not see it).
    TableMapping m(std::make_shared<const TargetTable>(t),
                   source({{"id", true}, {"region", true}, {"total", false}}));
    std::vector<Datum> row = m.project(values({"42", "eu", "9.999"}), true);
    EXPECT_EQ(show(row), "<absent>|eu|42|9.999|<absent>|<absent>");
    m.add_constants(row);
    EXPECT_EQ(show(row), "<absent>|eu|42|9.999|NULL|<absent>");
    auto refused = [](const std::string& column) {
        TargetTable orders = *target_orders();
        try {
            apply_exprs(orders, {{column, "$0"}});
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(refused("id").find("primary key column \"id\" of target table app.orders"),
              std::string::npos)
        << refused("id");
    EXPECT_NE(refused("total_x2").find("generated column"), std::string::npos);
    EXPECT_NE(refused("colour").find("column \"colour\" of target table app.orders, which has "
                                     "no such column"),
              std::string::npos);
    EXPECT_EQ(refused("note"), "accepted");
}

TEST(TableMapping, TheExtrasColumnMustBeTheTargetsAndNotTheSources) {
    auto refused = [](const std::string& extras, std::vector<std::pair<std::string, bool>> cols) {
        ColumnRules rules;
        rules.extras = extras;
        try {
            TableMapping m(target_orders(), source(std::move(cols)), rules);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    std::string msg = refused("attrs", {{"id", true}, {"region", true}, {"colour", false}});
    EXPECT_NE(msg.find("\"attrs\" as the extras column of target table app.orders, which has no "
                       "such (writable) column"),
              std::string::npos)
        << msg;
    msg = refused("total_x2", {{"id", true}, {"region", true}});
    EXPECT_NE(msg.find("no such (writable) column"), std::string::npos) << msg;
    msg = refused("note", {{"id", true}, {"region", true}, {"note", false}});
    EXPECT_NE(msg.find("source table public.orders has a column of that name"), std::string::npos)
        << msg;
}

// A userscript's layout may carry columns the target lacks: a delete's extra key columns
// (MOLT's cookbook keeps the old key name next to the renamed one) are ignored, an upsert that
// gives such a column a value is schema drift.
TEST(TableMapping, AScriptedLayoutsExtraColumnsAreDriftOnlyWhenWritten) {
    auto rel = std::const_pointer_cast<Relation>(
        source({{"id", false}, {"region", false}, {"pk_old", false}}));
    rel->replica_identity = kScriptedIdentity;
    TableMapping m(target_orders(), rel);
    ASSERT_TRUE(m.has_unmapped());
    EXPECT_EQ(m.drift_in(values({"1", "eu", "<absent>"})), "");
    std::string drift = m.drift_in(values({"1", "eu", "7"}));
    EXPECT_NE(drift.find("schema drift"), std::string::npos) << drift;
    EXPECT_NE(drift.find("\"pk_old\""), std::string::npos) << drift;
    std::vector<Datum> row = m.project(values({"1", "eu", "7"}));
    EXPECT_EQ(row[2].text, "1");  // id
    EXPECT_EQ(row[1].text, "eu");
}

TEST(TableMapping, RenamedSourceColumnIsReportedAsARename) {
    // The source renamed "note" to "remark": adding "remark" on the target would leave "note"
    // behind, stale.
    try {
        TableMapping m(target_orders(), source({{"id", true},
                                                {"region", true},
                                                {"total", false},
                                                {"remark", false},
                                                {"created", false}}));
        FAIL() << "expected rep::Error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("ALTER TABLE app.orders RENAME COLUMN \"note\" TO \"remark\""),
                  std::string::npos)
            << msg;
    }
}

TEST(TableMapping, SourceKeyMustBePartOfTheTargetKey) {
    // Target key (region, id); a source keyed by (id, note) keeps rows apart that differ only
    // in note, and the target would merge them.
    try {
        TableMapping m(target_orders(), source({{"id", true}, {"region", false}, {"note", true}}));
        FAIL() << "expected rep::Error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("(\"id\", \"note\") is not part of target table app.orders's primary "
                           "key (\"id\", \"region\")"),
                  std::string::npos)
            << msg;
    }
    // A source without any key column (no primary key, REPLICA IDENTITY NOTHING).
    try {
        TableMapping m(target_orders(), source({{"id", false}, {"region", false}}));
        FAIL() << "expected rep::Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("has no key"), std::string::npos) << e.what();
    }
    // A source key that is a subset of the target's is fine, and so is REPLICA IDENTITY FULL
    // (checked on the source instead).
    EXPECT_NO_THROW(TableMapping(target_orders(), source({{"id", true}, {"region", false}})));
    auto full =
        std::make_shared<Relation>(*source({{"id", true}, {"region", true}, {"note", true}}));
    full->replica_identity = 'f';
    EXPECT_NO_THROW(TableMapping(target_orders(), full));
}

TEST(TableMapping, TargetWithoutPrimaryKey) {
    auto t = std::make_shared<TargetTable>();
    t->name = TableName{SchemaRef::parse("app", "--targetSchema"), "log"};
    t->columns = {tcol("id"), tcol("line")};
    try {
        TableMapping m(t, source({{"id", true}, {"line", false}}, "log"));
        FAIL() << "expected rep::Error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(msg.find("target table app.log has no primary key"), std::string::npos) << msg;
        EXPECT_NE(msg.find("ADD PRIMARY KEY"), std::string::npos) << msg;
    }
}

TEST(TableMapping, MatchesColumnNamesExactly) {
    // Names match as the catalogs store them: "ID" is not "id".
    EXPECT_THROW(TableMapping(target_orders(), source({{"ID", true}, {"region", true}})), Error);
}

}  // namespace
}  // namespace rep::target
