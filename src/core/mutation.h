#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rep {

// One column value as the source sent it. Values travel in PostgreSQL's text format and are
// cast to the target column's type by the target, so every type round-trips exactly.
struct Datum {
    enum class Kind : uint8_t {
        kNull,
        kText,
        // The source did not send this column (an unchanged TOASTed value in an UPDATE, or a
        // non-key column of a DELETE's key tuple). The target's current value must be kept.
        kAbsent,
    };
    Kind kind = Kind::kAbsent;
    std::string text;

    static Datum null() { return Datum{Kind::kNull, {}}; }
    static Datum value(std::string s) { return Datum{Kind::kText, std::move(s)}; }
    bool is_null() const { return kind == Kind::kNull; }
    bool absent() const { return kind == Kind::kAbsent; }
};

struct SourceColumn {
    std::string name;  // as the target spells it
    uint32_t type_oid = 0;
    int32_t type_mod = -1;
    bool is_key = false;  // part of the source's replica identity
    // As the source spells it, where that differs (Oracle's upper case): what a userscript
    // sees. Empty: `name`.
    std::string source_name;

    const std::string& script_name() const { return source_name.empty() ? name : source_name; }
};

// The target's spelling of a name from a source whose unquoted names are upper case
// (Oracle), as PostgreSQL and CockroachDB fold unquoted names: an all upper-case name in lower
// case, any other (created quoted, such as "camelCase") as it is.
std::string fold_upper_case(const std::string& name);

// A source table's layout as last announced by the source. Immutable once built: a schema
// change produces a new Relation, so mutations decoded earlier keep the layout they were
// decoded with.
// Relation::replica_identity of a layout a userscript made (a renamed or routed table, or a
// key column renamed): which columns are key is for the target's primary key to say.
inline constexpr char kScriptedIdentity = 's';

struct Relation {
    uint32_t id = 0;
    std::string schema;  // as the target spells them
    std::string name;
    // As the source spells them, where that differs (Oracle): what a userscript sees, and
    // then names it gives back are folded (fold_upper_case) for the target. Empty: none.
    std::string source_schema;
    std::string source_name;
    char replica_identity = 'd';
    std::vector<SourceColumn> columns;
    uint64_t version = 0;  // increases every time the source re-announces any relation
};

enum class MutationKind : uint8_t { kUpsert, kDelete };

// A row change, already reduced to what the target needs: an upsert of the new row image, or
// a delete by key. A source UPDATE that changes the key becomes a delete followed by an upsert.
struct Mutation {
    MutationKind kind = MutationKind::kUpsert;
    std::shared_ptr<const Relation> relation;
    // One entry per relation column. For a delete only key columns are meaningful.
    std::vector<Datum> values;
    // For an upsert that came from an UPDATE: the old key (or whole old row) when the source
    // sent one. The apply side compares it with `values` on the target's primary key and
    // deletes the old row first if the key changed.
    std::vector<Datum> old_values;
    // An upsert of a row the source inserted: it replaced no row, so it gave up no value of a
    // unique index (sequencer/conflict_keys.h). False where that is not known: an UPDATE, or
    // a row a userscript made.
    bool inserted = false;
};

struct Truncate {
    std::vector<std::shared_ptr<const Relation>> relations;
    bool cascade = false;
    bool restart_identity = false;
};

}  // namespace rep
