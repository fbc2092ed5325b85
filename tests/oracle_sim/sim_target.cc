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

void Target::apply(const std::string& sql_redo) {
    RedoStatement s = parse_sql_redo(sql_redo);
    const std::vector<std::string>& columns = columns_.at(s.table);
    auto index = [&](const std::string& name) {
        auto it = std::find(columns.begin(), columns.end(), name);
        if (it == columns.end()) {
            throw std::logic_error("no column " + name + " in " + sql_redo);
        }
        return static_cast<size_t>(it - columns.begin());
    };
    auto value = [](const RedoValue& v) -> Value {
        return v.kind == RedoValue::Kind::kNull ? Value{} : Value{v.text};
    };
    auto& table = rows_[s.table];
    if (s.op == RedoStatement::Op::kInsert) {
        std::vector<Value> row(columns.size());
        for (const RedoColumn& c : s.values) {
            row.at(index(c.name)) = value(c.value);
        }
        table[*row[0]] = row;
        return;
    }
    std::string key;
    for (const RedoColumn& c : s.where) {
        if (index(c.name) == 0) {
            key = c.value.text;
        }
    }
    auto it = table.find(key);
    if (it == table.end()) {
        throw std::logic_error("no row " + key + " for " + sql_redo);
    }
    if (s.op == RedoStatement::Op::kDelete) {
        table.erase(it);
        return;
    }
    std::vector<Value> row = it->second;
    for (const RedoColumn& c : s.values) {
        row.at(index(c.name)) = value(c.value);
    }
    table.erase(it);
    table[*row[0]] = row;
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
