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

// Encoding errors quote encoding names, not values, and show the value's offending bytes
// as "0x.." words: those are hidden, the names kept (22021: invalid byte sequence for
// encoding "UTF8": 0xd6 0xd0; 22P05: character with byte sequence 0xe2 0x82 0xac in
// encoding "UTF8" has no equivalent in encoding "LATIN1").
std::string hide_bytes(std::string_view text) {
    std::string out;
    size_t pos = 0;
    bool hidden = false;
    while (pos < text.size()) {
        bool word = (pos == 0 || text[pos - 1] == ' ') && text.substr(pos, 2) == "0x";
        if (!word) {
            out += text[pos++];
            hidden = false;
            continue;
        }
        size_t end = text.find(' ', pos);
        end = end == std::string_view::npos ? text.size() : end;
        if (hidden) {
            out.pop_back();  // one <hidden> for the whole run of bytes
        } else {
            out += kHidden;
        }
        hidden = true;
        pos = end;
        if (pos < text.size()) {
            out += ' ';
            ++pos;
        }
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
