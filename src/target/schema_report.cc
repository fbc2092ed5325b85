#include "target/schema_report.h"

#include "base/error.h"
#include "target/table_mapping.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace rep::target {
namespace {

// A type name reduced for comparison: no COLLATE clause, no length or precision, no schema,
// no quotes, lower case ("public"."Myrange" -> myrange, numeric(10,2) -> numeric).
std::string bare_type(std::string t) {
    if (auto c = t.find(" COLLATE "); c != std::string::npos) {
        t.resize(c);
    }
    std::string out;
    int depth = 0;
    for (char ch : t) {
        if (ch == '(') {
            ++depth;
        } else if (ch == ')') {
            --depth;
        } else if (depth == 0 && ch != '"') {
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
    }
    bool array = out.size() > 2 && out.compare(out.size() - 2, 2, "[]") == 0;
    std::string base = array ? out.substr(0, out.size() - 2) : out;
    if (auto dot = base.rfind('.'); dot != std::string::npos) {
        base = base.substr(dot + 1);
    }
    return array ? base + "[]" : base;
}

bool is_string(const std::string& bare) {
    static const char* const kStrings[] = {
        "text", "character varying", "varchar", "string", "character", "char", "bpchar", "name"};
    return std::find(std::begin(kStrings), std::end(kStrings), bare) != std::end(kStrings);
}

std::string advice(const Dialect& dialect, const std::string& family) {
    if (dialect.product() == TargetProduct::kCockroach) {
        return fmt::format(
            "CockroachDB has no {} type: make the target column STRING (it then holds the "
            "source's text form, docs/cockroachdb.md §7)",
            family);
    }
    return "give the target column the source's type, or make it text";
}

}  // namespace

bool column_takes(const std::string& family, const std::string& source_type,
                  const std::string& target_cast) {
    std::string target = bare_type(target_cast);
    std::string source = bare_type(source_type);
    if (target == source) {
        return true;
    }
    bool array_family = family.rfind("array of ", 0) == 0;
    std::string element_family = array_family ? family.substr(9) : family;
    bool target_array = target.size() > 2 && target.compare(target.size() - 2, 2, "[]") == 0;
    if (!target_array && is_string(target)) {
        return true;  // any value's text form, arrays' included
    }
    if (target_array != array_family) {
        return false;
    }
    std::string base = target_array ? target.substr(0, target.size() - 2) : target;
    if (is_string(base)) {
        return true;  // an array of strings takes the elements' text forms
    }
    auto ends_with = [&](const char* suffix) {
        std::string s(suffix);
        return base.size() >= s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0;
    };
    // A type of the same kind parses the text form too (int4range into int8range, tsrange
    // into tstzrange, macaddr into macaddr8), and an array column takes the elements by the
    // rule for one value.
    if (element_family == "multirange") {
        return ends_with("multirange");
    }
    if (element_family == "range") {
        return ends_with("range") && !ends_with("multirange");
    }
    if (element_family == "macaddr") {
        return base == "macaddr" || base == "macaddr8";
    }
    return is_string(base);
}

std::vector<std::string> check_target_schema(util::TargetSession& session, const Dialect& dialect,
                                             const SchemaRef& schema,
                                             const std::vector<SourceLayout>& layouts,
                                             const TableCatalog::Loader& load, bool check_types) {
    std::vector<std::string> problems;
    for (const SourceLayout& layout : layouts) {
        const Relation& rel = *layout.relation;
        TableName name{schema, rel.name};
        std::optional<TargetTable> table = load(session, name);
        if (!table) {
            problems.push_back(fmt::format(
                "source table {}.{} has no target table {} on the {} target; create it with the "
                "same columns and primary key",
                rel.schema, rel.name, name.display(), dialect.name()));
            continue;
        }
        auto target = std::make_shared<const TargetTable>(std::move(*table));
        std::shared_ptr<const TableMapping> mapping;
        try {
            mapping = std::make_shared<const TableMapping>(target, layout.relation);
        } catch (const Error& e) {
            problems.push_back(e.what());
        }
        if (mapping) {
            if (std::string p = unwritable_identity(*mapping, dialect); !p.empty()) {
                problems.push_back(p);
            }
        }
        if (!check_types) {
            continue;
        }
        for (size_t i = 0; i < rel.columns.size() && i < layout.families.size(); ++i) {
            const std::string& family = layout.families[i];
            auto idx = target->find(rel.columns[i].name);
            if (family.empty() || !idx || target->columns[*idx].generated) {
                continue;
            }
            const TargetColumn& col = target->columns[*idx];
            if (!column_takes(family, layout.types[i], col.cast_type)) {
                problems.push_back(fmt::format(
                    "column {} of source table {}.{} is {} ({}), and target table {}'s column "
                    "of type {} cannot take its values; {}",
                    quote_ident(col.name), rel.schema, rel.name, layout.types[i], family,
                    name.display(), col.cast_type, advice(dialect, family)));
            }
        }
    }
    return problems;
}

}  // namespace rep::target
