#include "core/mutation.h"

#include <algorithm>

namespace rep {

std::string fold_upper_case(const std::string& name) {
    if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        return name;
    }
    std::string out = name;
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    return out;
}

}  // namespace rep
