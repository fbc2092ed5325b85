#include "sim_target.h"

#include "source/oracle/sql_redo.h"

#include <algorithm>
#include <stdexcept>

namespace rep::oracle::sim {

void Target::load(const Rows& rows) {
    rows_.clear();
    for (const auto& [table, list] : rows) {
        for (const std::vector<Value>& values : list) {
            rows_[table][*values.at(0)] = values;
        }
    }
}

Columns columns_of(const Database& db, const std::string& owner) {
    Columns out;
    for (const Table* t : db.tables(owner)) {
        out[t->name] = t->columns;
    }
    return out;
}

Rows rows_of(const Database& db, const std::string& owner) {
    Rows out;
    for (const Table* t : db.tables(owner)) {
        for (const auto& [key, row] : t->rows) {
            out[t->name].push_back(row.values);
        }
    }
    return out;
}

Target::Target(Columns columns) {
    for (const auto& [name, list] : columns) {
        std::vector<OracleColumn> cols;
        for (size_t i = 0; i < list.size(); ++i) {
            cols.push_back(OracleColumn{list[i], "VARCHAR2", i == 0});
        }
        tables_.emplace(name, make_table("APP", name, cols));
    }
}

void Target::apply(const std::string& sql_redo) {
    RedoStatement s = parse_sql_redo(sql_redo);
    Mutation m = to_mutation(s, tables_.at(s.table), RedoOrigin{0, "test"});
    auto& table = rows_[s.table];
    auto value = [](const Datum& d) { return d.is_null() ? Value{} : Value{d.text}; };
    const std::string& key = m.values.at(0).text;
    if (m.kind == MutationKind::kDelete) {
        table.erase(key);
        return;
    }
    std::vector<Value> row(m.values.size());
    if (!m.old_values.empty() && m.old_values[0].text != key) {
        if (table.erase(m.old_values[0].text) == 0) {
            throw std::logic_error("no row " + m.old_values[0].text + " for " + sql_redo);
        }
    } else if (auto it = table.find(key); it != table.end()) {
        row = it->second;
    } else if (s.op == RedoStatement::Op::kUpdate) {
        throw std::logic_error("no row " + key + " for " + sql_redo);
    }
    for (size_t i = 0; i < m.values.size(); ++i) {
        if (!m.values[i].absent()) {
            row[i] = value(m.values[i]);
        }
    }
    table[key] = row;
}

std::string Target::text() const {
    std::string out;
    for (const auto& [name, rows] : rows_) {
        for (const auto& [key, values] : rows) {
            out += name;
            for (const Value& v : values) {
                out += v ? "|" + *v : "|NULL";
            }
            out += "\n";
        }
    }
    return out;
}

}  // namespace rep::oracle::sim
