#include "target/table_mapping.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace rep::target {

TableMapping::TableMapping(std::shared_ptr<const TargetTable> target,
                           std::shared_ptr<const Relation> source)
    : target_(std::move(target)), source_(std::move(source)) {
    if (target_->pk.empty()) {
        throw fatal(fmt::format(
            "target table {} has no primary key; replicated tables need one so rows can be "
            "upserted and deleted by key (ALTER TABLE {} ADD PRIMARY KEY (...))",
            target_->name.display(), target_->name.display()));
    }
    for (const auto& col : source_->columns) {
        auto idx = target_->find(col.name);
        if (!idx) {
            throw fatal(fmt::format(
                "schema drift detected: source table {}.{} has column \"{}\" but target table {} "
                "does not; add the column to the target (ALTER TABLE {} ADD COLUMN {} ...) and "
                "run the same command again",
                source_->schema, source_->name, col.name, target_->name.display(),
                target_->name.display(), quote_ident(col.name)));
        }
        source_to_target_.push_back(target_->columns[*idx].generated ? -1 : static_cast<int>(*idx));
    }
    for (size_t pk : target_->pk) {
        auto it =
            std::find(source_to_target_.begin(), source_to_target_.end(), static_cast<int>(pk));
        pk_source_.push_back(
            it == source_to_target_.end() ? -1 : static_cast<int>(it - source_to_target_.begin()));
    }
    table_hash_ = std::hash<std::string>{}(target_->name.display());
}

std::optional<uint64_t> TableMapping::key_hash(const std::vector<Datum>& source_values) const {
    uint64_t h = table_hash_;
    for (int src : pk_source_) {
        if (src < 0 || static_cast<size_t>(src) >= source_values.size() ||
            source_values[static_cast<size_t>(src)].absent()) {
            return std::nullopt;
        }
        const Datum& d = source_values[static_cast<size_t>(src)];
        uint64_t v = d.is_null() ? 0x9e3779b97f4a7c15ULL : std::hash<std::string>{}(d.text);
        h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);  // boost-style combine
    }
    return h;
}

std::vector<Datum> TableMapping::project(const std::vector<Datum>& values) const {
    std::vector<Datum> row(target_->columns.size());
    for (size_t i = 0; i < values.size() && i < source_to_target_.size(); ++i) {
        if (source_to_target_[i] >= 0) {
            row[static_cast<size_t>(source_to_target_[i])] = values[i];
        }
    }
    return row;
}

bool TableMapping::has_key(const std::vector<Datum>& row) const {
    for (size_t i : target_->pk) {
        if (row[i].absent()) {
            return false;
        }
    }
    return true;
}

std::string TableMapping::key(const std::vector<Datum>& row) const {
    std::string k;
    for (size_t i : target_->pk) {
        const Datum& d = row[i];
        k += d.is_null() ? 'n' : 't';
        k += std::to_string(d.text.size());
        k += ':';
        k += d.text;
    }
    return k;
}

std::string TableMapping::describe_key(const std::vector<Datum>& row) const {
    std::string out;
    for (size_t i : target_->pk) {
        if (!out.empty()) {
            out += ", ";
        }
        const Datum& d = row[i];
        out += target_->columns[i].name + "=" +
               (d.is_null()  ? "NULL"
                : d.absent() ? "<absent>"
                             : d.text.substr(0, 100));
    }
    return out;
}

std::string TableMapping::missing_key_column(const std::vector<Datum>& row) const {
    for (size_t i : target_->pk) {
        if (row[i].absent()) {
            return target_->columns[i].name;
        }
    }
    return {};
}

}  // namespace rep::target
