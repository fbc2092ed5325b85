#pragma once

#include <string>
#include <string_view>

namespace rep {

// Builds a PostgreSQL text[] literal one element at a time: {"a",NULL,"b \"c\""}. Every element
// is double-quoted with '"' and '\' escaped, so any text value (braces, commas, spaces, the
// word NULL) survives. The apply statements pass whole columns this way and unnest them.
class TextArrayBuilder {
public:
    void add(std::string_view value);
    void add_null();
    // Returns the literal and resets the builder.
    std::string finish();
    bool empty() const { return count_ == 0; }

private:
    std::string buf_ = "{";
    size_t count_ = 0;
};

}  // namespace rep
