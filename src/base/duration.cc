#include "base/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace rep {
namespace {

std::optional<double> unit_nanos(std::string_view unit) {
    if (unit == "ns") {
        return 1.0;
    }
    if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
        return 1e3;
    }
    if (unit == "ms") {
        return 1e6;
    }
    if (unit == "s") {
        return 1e9;
    }
    if (unit == "m") {
        return 60e9;
    }
    if (unit == "h") {
        return 3600e9;
    }
    return std::nullopt;
}

}  // namespace

std::optional<Duration> parse_go_duration(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") {
        return Duration{0};
    }
    if (s.empty()) {
        return std::nullopt;
    }
    long double total = 0;
    while (!s.empty()) {
        size_t i = 0;
        long double value = 0;
        bool digits = false;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            value = value * 10 + (s[i] - '0');
            ++i;
            digits = true;
        }
        if (i < s.size() && s[i] == '.') {
            ++i;
            long double scale = 0.1L;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                value += (s[i] - '0') * scale;
                scale /= 10;
                ++i;
                digits = true;
            }
        }
        if (!digits) {
            return std::nullopt;
        }
        size_t j = i;
        while (j < s.size() && !(s[j] >= '0' && s[j] <= '9') && s[j] != '.') {
            ++j;
        }
        auto mult = unit_nanos(s.substr(i, j - i));
        if (!mult) {
            return std::nullopt;
        }
        total += value * *mult;
        s.remove_prefix(j);
    }
    if (total > static_cast<long double>(INT64_MAX)) {
        return std::nullopt;
    }
    auto ns = static_cast<int64_t>(std::llround(static_cast<double>(total)));
    return Duration{negative ? -ns : ns};
}

std::string format_go_duration(Duration d) {
    int64_t ns = d.count();
    if (ns == 0) {
        return "0s";
    }
    std::string sign = ns < 0 ? "-" : "";
    uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
    auto frac = [](uint64_t v, uint64_t unit) {
        std::string s = fmt::format("{}", v / unit);
        uint64_t rest = v % unit;
        if (rest != 0) {
            std::string f = fmt::format("{:0{}}", rest, std::to_string(unit).size() - 1);
            while (!f.empty() && f.back() == '0') {
                f.pop_back();
            }
            s += "." + f;
        }
        return s;
    };
    if (u < 1000) {
        return sign + fmt::format("{}ns", u);
    }
    if (u < 1000000) {
        return sign + frac(u, 1000) + "\xC2\xB5s";
    }
    if (u < 1000000000) {
        return sign + frac(u, 1000000) + "ms";
    }
    uint64_t hours = u / 3600000000000ULL;
    uint64_t rest = u % 3600000000000ULL;
    uint64_t minutes = rest / 60000000000ULL;
    rest %= 60000000000ULL;
    std::string out = sign;
    if (hours > 0) {
        out += fmt::format("{}h", hours);
    }
    if (hours > 0 || minutes > 0) {
        out += fmt::format("{}m", minutes);
    }
    return out + frac(rest, 1000000000) + "s";
}

}  // namespace rep
