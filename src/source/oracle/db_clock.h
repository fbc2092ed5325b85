#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rep::oracle {

// Turns the redo TIMESTAMP of V$LOGMNR_CONTENTS (a DATE: seconds, in the database server's
// own time zone, no zone in the value) into UTC, for the lag metrics.
//
// The zone is not asked by name: SYSDATE runs on the same clock as the redo timestamps, so
// the difference between SYSDATE read as if it were UTC and our own UTC clock, rounded to the
// nearest 15 minutes (every zone offset in use is a multiple of it), is the server's offset.
// Rounding absorbs clock skew and the query's own time up to 7.5 minutes. The offset is
// measured again from time to time, so a daylight-saving change is followed; redo written
// before such a change and mined after it is an hour off until then (a catch-up across the
// change reports its lag one hour wrong, the data is not affected).
class DbClock {
public:
    // `sysdate`: TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS'), read when our clock said
    // `utc_now_us`. False (and the offset unchanged) if the text is not such a date.
    bool update(std::string_view sysdate, int64_t utc_now_us);
    bool known() const { return known_; }
    int64_t offset_seconds() const { return offset_s_; }

    // A redo TIMESTAMP as microseconds since the epoch, UTC; nullopt before update() or for
    // text that is not 'YYYY-MM-DD HH24:MI:SS'.
    std::optional<int64_t> to_utc_us(std::string_view timestamp) const;

private:
    bool known_ = false;
    int64_t offset_s_ = 0;  // database time minus UTC
};

// 'YYYY-MM-DD HH24:MI:SS' as seconds since 1970-01-01 00:00:00 of the same calendar (no
// zone); nullopt for anything else.
std::optional<int64_t> parse_db_time(std::string_view text);

}  // namespace rep::oracle
