#include "target/target_table.h"

#include <algorithm>

namespace rep::target {

std::optional<size_t> TargetTable::find(const std::string& column) const {
    for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].name == column) {
            return i;
        }
    }
    return std::nullopt;
}

bool TargetTable::has_identity_always() const {
    return std::any_of(columns.begin(), columns.end(),
                       [](const TargetColumn& c) { return c.identity_always; });
}

}  // namespace rep::target
