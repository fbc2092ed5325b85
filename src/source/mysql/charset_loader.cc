#include "source/mysql/charset_loader.h"

#include "base/error.h"
#include "base/hex.h"

#include <fmt/format.h>

#include <charconv>

namespace rep::mysql {
namespace {

// The digits 0 to 15 as a derived table (no WITH RECURSIVE: MySQL 5.7 has none).
std::string nibbles() {
    std::string sql = "(SELECT 0 AS n";
    for (int i = 1; i < 16; ++i) {
        sql += fmt::format(" UNION ALL SELECT {}", i);
    }
    return sql + ")";
}

// A number the server answered; rep::Error (fatal) for anything else.
unsigned long number(const std::string& text) {
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) {
        throw fatal(fmt::format("the source answered \"{}\" where a number was asked for",
                                text.substr(0, 40)));
    }
    return v;
}

std::string unhex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        int hi = hex_digit(hex[i]);
        int lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            throw fatal(fmt::format("the source answered \"{}\" where a hex text was asked for",
                                    hex.substr(0, 40)));
        }
        out.push_back(static_cast<char>(hi << 4 | lo));
    }
    return out;
}

}  // namespace

void load_collations(MysqlConn& conn, Charsets& charsets) {
    auto has_ids = conn.query(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
        "'information_schema' AND TABLE_NAME = 'COLLATION_CHARACTER_SET_APPLICABILITY' AND "
        "COLUMN_NAME = 'ID'");
    bool applicability = !has_ids.empty() && has_ids[0][0].value_or("0") != "0";
    std::string sql =
        applicability
            ? "SELECT a.ID, a.FULL_COLLATION_NAME, a.CHARACTER_SET_NAME, cs.MAXLEN FROM "
              "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY a JOIN "
              "information_schema.CHARACTER_SETS cs ON cs.CHARACTER_SET_NAME = "
              "a.CHARACTER_SET_NAME WHERE a.ID IS NOT NULL"
            : "SELECT co.ID, co.COLLATION_NAME, co.CHARACTER_SET_NAME, cs.MAXLEN FROM "
              "information_schema.COLLATIONS co JOIN information_schema.CHARACTER_SETS cs ON "
              "cs.CHARACTER_SET_NAME = co.CHARACTER_SET_NAME WHERE co.ID IS NOT NULL";
    for (const auto& r : conn.query(sql)) {
        if (r.size() < 4 || !r[0] || !r[2] || !r[3]) {
            continue;
        }
        charsets.add_collation(static_cast<uint32_t>(number(*r[0])), r[1].value_or(""), *r[2],
                               static_cast<int>(number(*r[3])));
    }
}

CharTable load_char_table(MysqlConn& conn, const std::string& charset, int maxlen) {
    for (char c : charset) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            throw fatal(fmt::format("the source named a character set \"{}\"", charset));
        }
    }
    std::string d = nibbles();
    std::string sql = fmt::format(
        "SELECT len, HEX(s), HEX(CONVERT(s USING utf8mb4)) FROM (SELECT 1 AS len, "
        "CHAR(a.n*16+b.n USING {0}) AS s FROM {1} a, {1} b",
        charset, d);
    if (maxlen >= 2) {
        sql += fmt::format(
            " UNION ALL SELECT 2, CHAR(a.n*16+b.n, c.n*16+e.n USING {0}) FROM {1} a, {1} b, {1} c, "
            "{1} e WHERE a.n >= 8",
            charset, d);
    }
    if (maxlen >= 3) {
        sql += fmt::format(
            " UNION ALL SELECT 3, CHAR(143, a.n*16+b.n, c.n*16+e.n USING {0}) FROM {1} a, {1} b, "
            "{1} c, {1} e WHERE a.n >= 8 AND c.n >= 8",
            charset, d);
    }
    sql += ") x";
    CharTable table;
    // Single bytes first: a byte that is a character of its own leads no longer sequence.
    std::vector<std::pair<std::string, std::optional<std::string>>> longer;
    for (const auto& r : conn.query(sql)) {
        if (r.size() < 3 || !r[0] || !r[1]) {
            continue;
        }
        // CHAR(... USING) of an invalid sequence gives NULL or a shorter text, depending on
        // the server's plan: only sequences given back whole are characters.
        std::string bytes = unhex(*r[1]);
        if (bytes.size() != number(*r[0])) {
            continue;
        }
        if (bytes.size() > 1 && bytes.find('?') != std::string::npos) {
            continue;  // no character of these sets has '?' as a trailing byte
        }
        std::optional<std::string> text;
        if (r[2]) {
            text = unhex(*r[2]);
            // The server's conversion writes '?' for a character without a Unicode one.
            if (text->find('?') != std::string::npos && bytes != "?") {
                text.reset();
            }
        }
        if (bytes.size() == 1) {
            table.add(bytes, std::move(text));
        } else {
            longer.emplace_back(std::move(bytes), std::move(text));
        }
    }
    for (auto& [bytes, text] : longer) {
        table.add(bytes, std::move(text));
    }
    return table;
}

}  // namespace rep::mysql
