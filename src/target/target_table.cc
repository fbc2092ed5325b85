#include "target/target_table.h"

#include <algorithm>
#include <cctype>

namespace rep::target {

std::optional<size_t> TargetTable::find(const std::string& column) const {
    for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].name == column) {
            return i;
        }
    }
    return std::nullopt;
}

size_t find_value_placeholder(const std::string& expr, size_t from) {
    for (size_t at = expr.find("$0", from); at != std::string::npos; at = expr.find("$0", at + 2)) {
        if (at + 2 == expr.size() || !std::isdigit(static_cast<unsigned char>(expr[at + 2]))) {
            return at;
        }
    }
    return std::string::npos;
}

bool TargetTable::has_identity_always() const {
    return std::any_of(columns.begin(), columns.end(),
                       [](const TargetColumn& c) { return c.identity_always; });
}

}  // namespace rep::target
