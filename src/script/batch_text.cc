#include "script/batch_text.h"

#include <fmt/format.h>

#include <cstring>

namespace rep::script {
namespace {

// Whether any of the eight bytes of `w` is below 0x20, a quote or a backslash: the bytes
// JSON must escape. (A byte b is below 0x20 when b - 0x20 borrows, i.e. sets the high bit,
// while b itself has it clear; a byte equal to q is zero after ^ q, and then b - 1 borrows.)
bool needs_escape(uint64_t w) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    auto zero_byte = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
    return (((w - 0x20 * kOnes) & ~w & kHigh) | zero_byte(w ^ ('"' * kOnes)) |
            zero_byte(w ^ ('\\' * kOnes))) != 0;
}

}  // namespace

// Eight bytes at a time are checked for what needs an escape, so most text is copied in one
// piece.
void append_json(std::string& out, const std::string& s) {
    out += '"';
    size_t run = 0;  // start of the characters not yet copied
    size_t i = 0;
    while (i < s.size()) {
        if (i + 8 <= s.size()) {
            uint64_t w = 0;
            std::memcpy(&w, s.data() + i, 8);
            if (!needs_escape(w)) {
                i += 8;
                continue;
            }
        }
        auto c = static_cast<unsigned char>(s[i]);
        if (c != '"' && c != '\\' && c >= 0x20) {
            ++i;
            continue;
        }
        out.append(s, run, i - run);
        run = ++i;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += fmt::format("\\u{:04x}", c);
        }
    }
    out.append(s, run, s.size() - run);
    out += '"';
}

}  // namespace rep::script
