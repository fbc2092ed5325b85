#include "util/row_contents.h"

#include <array>
#include <atomic>

namespace rep::util {
namespace {

std::atomic<bool> g_show{false};

constexpr std::string_view kHidden = "<hidden>";

// "Key (a, b)=(1, x) already exists." -> "Key (a, b)=(<hidden>) already exists.": the values
// run from "=(" to the ")" before a tail PostgreSQL writes after them. Values are not quoted,
// so a ")" inside one cannot be told from the end; matching the known tails, searched from
// the end, keeps every value inside the hidden part.
std::string hide_key_values(std::string_view text) {
    static constexpr std::array<std::string_view, 5> kTails = {
        ") already exists", ") is not present in table", ") is still referenced from table",
        ") conflicts with existing key", ") is duplicated"};
    std::string out;
    size_t pos = 0;
    for (;;) {
        size_t open = text.find(")=(", pos);
        if (open == std::string_view::npos) {
            out += text.substr(pos);
            return out;
        }
        size_t values = open + 3;
        size_t close = std::string_view::npos;
        for (std::string_view tail : kTails) {
            size_t at = text.find(tail, values);
            if (at != std::string_view::npos && (close == std::string_view::npos || at < close)) {
                close = at;
            }
        }
        out += text.substr(pos, values - pos);
        out += kHidden;
        if (close == std::string_view::npos) {
            // An unknown tail: hide everything after the values' start rather than guess.
            out += ")";
            return out;
        }
        pos = close;
    }
}

// Hides what lies between the first and the last double quote: data exceptions quote the
// value, and a value may itself hold quotes.
std::string hide_quoted(std::string_view text) {
    size_t open = text.find('"');
    size_t close = text.rfind('"');
    if (open == std::string_view::npos || close == open) {
        return std::string(text);
    }
    return std::string(text.substr(0, open + 1)) + std::string(kHidden) +
           std::string(text.substr(close));
}

// Encoding errors quote encoding names, not values, and show the value's offending bytes as
// "0x.." words: those are hidden, the names kept (22021: invalid byte sequence for encoding
// "UTF8": 0xd6 0xd0; 22P05: character with byte sequence 0xe2 0x82 0xac in encoding "UTF8"
// has no equivalent in encoding "LATIN1"). A run of bytes is hidden wherever it starts:
// translations put it straight after other text ("バイト列0xe2 0x82 0xacである", "0x0xe2 ...").
// CockroachDB quotes the character itself in single quotes ("character 'é' has no
// representation in encoding"), hidden too.
std::string hide_bytes(std::string_view text) {
    auto is_hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    // The end of one "0x" word (hex digits after one or more "0x") at `at`, or `at`.
    auto word_end = [&](size_t at) {
        size_t p = at;
        while (text.substr(p, 2) == "0x") {
            p += 2;
        }
        if (p == at || p >= text.size() || !is_hex(text[p])) {
            return at;
        }
        while (p < text.size() && is_hex(text[p])) {
            ++p;
        }
        return p;
    };
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = word_end(pos);
        if (end == pos) {
            out += text[pos++];
            continue;
        }
        // Further words of the run, each after one space.
        for (size_t next = end; next < text.size() && text[next] == ' ';) {
            size_t more = word_end(next + 1);
            if (more == next + 1) {
                break;
            }
            end = more;
            next = more;
        }
        out += kHidden;
        pos = end;
    }
    size_t open = out.find('\'');
    size_t close = out.rfind('\'');
    if (open != std::string::npos && close != open) {
        out = out.substr(0, open + 1) + std::string(kHidden) + out.substr(close);
    }
    return out;
}

}  // namespace

void set_show_row_contents(bool show) {
    g_show = show;
}

bool show_row_contents() {
    return g_show.load();
}

std::string hide_row_contents(std::string_view sqlstate, std::string_view text) {
    if (g_show.load()) {
        return std::string(text);
    }
    std::string out;
    constexpr std::string_view kFailing = "Failing row contains (";
    if (size_t at = text.find(kFailing); at != std::string_view::npos) {
        // The whole row follows; nothing after it is worth the risk of keeping a value.
        out = std::string(text.substr(0, at + kFailing.size())) + std::string(kHidden) + ")";
    } else {
        out = hide_key_values(text);
    }
    if (sqlstate == "22021" || sqlstate == "22P05") {
        out = hide_bytes(out);
    } else if (sqlstate.substr(0, 2) == "22") {
        out = hide_quoted(out);
    }
    return out;
}

}  // namespace rep::util
