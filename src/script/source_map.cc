#include "script/source_map.h"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace rep::script {
namespace {

// The 6-bit value of a base64 digit, or -1.
int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

// One VLQ number from `text` at `at`: five bits per digit, least significant first, the
// sixth bit set while digits follow; the lowest bit of the whole is the sign.
std::optional<int> next_vlq(const std::string& text, size_t& at) {
    int64_t value = 0;
    int shift = 0;
    while (at < text.size() && shift < 32) {
        int digit = base64_value(text[at++]);
        if (digit < 0) {
            return std::nullopt;
        }
        value |= static_cast<int64_t>(digit & 31) << shift;
        shift += 5;
        if ((digit & 32) == 0) {
            int64_t magnitude = value >> 1;
            return static_cast<int>((value & 1) != 0 ? -magnitude : magnitude);
        }
    }
    return std::nullopt;
}

}  // namespace

SourceMap::SourceMap(const std::string& mappings) {
    int line = 0;
    int column = 0;
    std::vector<Segment> current;
    size_t at = 0;
    int generated = 0;
    while (at <= mappings.size()) {
        if (at == mappings.size() || mappings[at] == ';') {
            std::sort(current.begin(), current.end(), [](const Segment& a, const Segment& b) {
                return a.generated_column < b.generated_column;
            });
            lines_.push_back(std::move(current));
            current.clear();
            generated = 0;
            ++at;
            continue;
        }
        if (mappings[at] == ',') {
            ++at;
            continue;
        }
        // A segment: 1, 4 or 5 numbers up to the next ',' or ';'.
        std::vector<int> fields;
        while (at < mappings.size() && mappings[at] != ',' && mappings[at] != ';') {
            auto v = next_vlq(mappings, at);
            if (!v) {
                lines_.clear();  // malformed: map nothing rather than something wrong
                return;
            }
            fields.push_back(*v);
        }
        generated += fields.empty() ? 0 : fields[0];
        if (fields.size() >= 4) {
            line += fields[2];
            column += fields[3];
            current.push_back(Segment{generated, line, column});
        }
    }
}

std::pair<int, int> SourceMap::original(int line, int column) const {
    if (line < 1 || static_cast<size_t>(line) > lines_.size() || column < 1) {
        return {line, column};
    }
    const std::vector<Segment>& segments = lines_[static_cast<size_t>(line - 1)];
    // The last segment that starts at or before the column: the token it falls in.
    auto after =
        std::upper_bound(segments.begin(), segments.end(), column - 1,
                         [](int col, const Segment& s) { return col < s.generated_column; });
    if (after == segments.begin()) {
        return {line, column};
    }
    const Segment& s = *(after - 1);
    return {s.line + 1, s.column + (column - 1 - s.generated_column) + 1};
}

std::string original_location(const std::string& where, const SourceMaps& maps,
                              int first_line_shift) {
    // "path:line:column": the last two fields, as paths may hold ':'.
    size_t c2 = where.rfind(':');
    size_t c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : where.rfind(':', c2 - 1);
    if (c1 == std::string::npos) {
        return where;
    }
    auto it = maps.find(where.substr(0, c1));
    if (it == maps.end() || !it->second) {
        return where;
    }
    int line = 0;
    int column = 0;
    try {
        line = std::stoi(where.substr(c1 + 1, c2 - c1 - 1));
        column = std::stoi(where.substr(c2 + 1));
    } catch (const std::exception&) {
        return where;
    }
    if (line == 1) {
        column = std::max(1, column - first_line_shift);
    }
    auto [l, c] = it->second->original(line, column);
    return where.substr(0, c1) + ":" + std::to_string(l) + ":" + std::to_string(c);
}

}  // namespace rep::script
