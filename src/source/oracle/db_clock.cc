#include "source/oracle/db_clock.h"

#include <chrono>
#include <cmath>

namespace rep::oracle {
namespace {

bool digits(std::string_view s, size_t at, size_t n, int64_t& out) {
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<int64_t> parse_db_time(std::string_view t) {
    // 0123456789012345678
    // YYYY-MM-DD HH:MI:SS
    if (t.size() != 19 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' ||
        t[16] != ':') {
        return std::nullopt;
    }
    int64_t y = 0;
    int64_t mo = 0;
    int64_t d = 0;
    int64_t h = 0;
    int64_t mi = 0;
    int64_t s = 0;
    if (!digits(t, 0, 4, y) || !digits(t, 5, 2, mo) || !digits(t, 8, 2, d) ||
        !digits(t, 11, 2, h) || !digits(t, 14, 2, mi) || !digits(t, 17, 2, s) || h > 23 ||
        mi > 59 || s > 59) {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(y)),
                                           std::chrono::month(static_cast<unsigned>(mo)),
                                           std::chrono::day(static_cast<unsigned>(d))};
    if (!date.ok()) {
        return std::nullopt;
    }
    return std::chrono::sys_days(date).time_since_epoch().count() * 86400 + h * 3600 + mi * 60 + s;
}

bool DbClock::update(std::string_view sysdate, int64_t utc_now_us) {
    std::optional<int64_t> db = parse_db_time(sysdate);
    if (!db) {
        return false;
    }
    const double diff = static_cast<double>(*db) - static_cast<double>(utc_now_us) / 1e6;
    offset_s_ = static_cast<int64_t>(std::llround(diff / 900.0)) * 900;
    known_ = true;
    return true;
}

std::optional<int64_t> DbClock::to_utc_us(std::string_view timestamp) const {
    std::optional<int64_t> db = parse_db_time(timestamp);
    if (!known_ || !db) {
        return std::nullopt;
    }
    return (*db - offset_s_) * 1000000;
}

}  // namespace rep::oracle
