#pragma once

#include <string>
#include <string_view>

namespace rep::util {

// Builds a PostgreSQL text[] literal one element at a time: {"a",NULL,"b \"c\""}. Every element
// is double-quoted with '"' and '\' escaped, so any text value (braces, commas, spaces, the
// word NULL) survives. The apply statements pass whole columns this way and unnest them.
//
// The literal is written into a string the caller owns and may reuse: its capacity is kept,
// so a column of a thousand rows costs no allocation once that string has grown.
class TextArrayBuilder {
public:
    // Replaces the contents of `out` with an empty literal under construction.
    explicit TextArrayBuilder(std::string& out) : out_(out) { out_.assign(1, '{'); }
    void add(std::string_view value);
    void add_null();
    // Closes the literal; `out` holds it.
    void finish() { out_.push_back('}'); }
    bool empty() const { return count_ == 0; }

private:
    std::string& out_;
    size_t count_ = 0;
};

}  // namespace rep::util
