// Values must arrive exactly whatever the session settings of the source and target
// databases: pgoutput renders values with the walsender's settings (date style, float digits,
// interval style, bytea output, time zone, encoding), and the target parses them with its
// own. The replicator pins what decides a value's text form on both ends, as PostgreSQL's own
// subscriber does.

#include "harness.h"
#include <gtest/gtest.h>

namespace {

using harness::converges;
using harness::Databases;
using harness::fresh_log;
using harness::Replicator;
using namespace std::chrono_literals;

// What the comparing sessions use, so that they show every value in full and alike.
void neutral(harness::Sql& db) {
    db.exec(
        "SET extra_float_digits = 3; SET datestyle = 'ISO'; SET intervalstyle = 'postgres';"
        "SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'");
}

TEST(SessionSettings, ValuesSurviveHostileSettingsOnBothEnds) {
    const char* ddl = R"(
CREATE TABLE v(id int PRIMARY KEY, d float8, r real, dt date, ts timestamp, tz timestamptz,
               iv interval, dr daterange, tsr tstzrange, b bytea, t text, arr float8[],
               tm time, ttz timetz, m money, n numeric, ivs interval[], dts date[], j jsonb))";
    Databases db("it_hostile", ddl);
    // Settings a database may legitimately have, chosen to change every value's text form.
    db.source->exec(
        "ALTER DATABASE it_hostile SET datestyle = 'SQL, DMY';"
        "ALTER DATABASE it_hostile SET extra_float_digits = 0;"
        "ALTER DATABASE it_hostile SET intervalstyle = 'sql_standard';"
        "ALTER DATABASE it_hostile SET bytea_output = 'escape';"
        "ALTER DATABASE it_hostile SET TimeZone = 'Asia/Kathmandu'");
    db.target->exec(
        "ALTER DATABASE it_hostile SET datestyle = 'SQL, DMY';"
        "ALTER DATABASE it_hostile SET intervalstyle = 'iso_8601';"
        "ALTER DATABASE it_hostile SET TimeZone = 'America/St_Johns';"
        "ALTER DATABASE it_hostile SET client_encoding = 'LATIN1'");
    neutral(*db.source);
    neutral(*db.target);
    db.source->exec(R"(INSERT INTO v VALUES
 (1, 1.7976931348623157e308, 3.4028235e38, '2024-02-03', '2024-02-03 04:05:06.789',
  '2024-02-03 04:05:06.789+00', '-1 days +02:03:04.5', '[2024-02-03,2024-03-04)',
  '["2024-02-03 04:05:06+00","2024-12-01 00:00:00+05:30")', '\x00ff5c27', 'café ü 中文 😀',
  '{0.1,0.3333333333333333,2.2250738585072014e-308}', '23:59:59.999999', '04:05:06+05:45',
  '1234567.89', 'NaN', '{"-1 days +02:00:00","P1Y2M"}', '{2024-02-03,2024-12-31}',
  '{"f": 0.30000000000000004, "d": "2024-02-03"}'),
 (2, 0.1, 0.1, '0001-12-31 BC', '1999-12-31 23:59:59.999999', '1999-12-31 23:59:59+14',
  '1 year -2 months 3 days -04:05:06', 'empty', '(,)', '\x', 'É', '{}', '00:00', '00:00-12',
  '-0.01', '123456789.000000000000000000001', '{}', '{}', 'null'),
 (3, -2.2250738585072014e-308, 1.17549435e-38, '2025-11-12', '2025-11-12 13:14:15',
  '2025-11-12 13:14:15.123456+00', '-00:00:00.000001', '[2025-01-02,)', 'empty', '\x5c6e',
  '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))");
    // A corpus of doubles and reals whose 15-digit renderings differ from the exact ones.
    db.source->exec(
        "INSERT INTO v (id, d, r) SELECT 100 + g, 1 / (g + 0.7::float8) * 10 ^ (g % 40 - 20), "
        "(1 / (g + 0.3::float8))::real FROM generate_series(1, 2000) g");
    Replicator r(db.args(), fresh_log("it_hostile"));
    EXPECT_TRUE(converges(db, {"v"})) << r.log();
    db.source->exec("UPDATE v SET d = d / 3, dt = dt + 1, iv = iv * -1 WHERE id < 100");
    EXPECT_TRUE(converges(db, {"v"})) << r.log();
}

}  // namespace
