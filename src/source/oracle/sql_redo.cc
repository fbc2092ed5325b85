#include "source/oracle/sql_redo.h"

#include "base/error.h"
#include "base/utf8.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace rep::oracle {
namespace {

using Kind = RedoValue::Kind;

// The masks the reader pins (reference §1.8): a TO_DATE with any other mask means the
// session's NLS settings were not ours, and the value cannot be trusted.
constexpr std::string_view kDateMask = "YYYY-MM-DD HH24:MI:SS";

class Scanner {
public:
    explicit Scanner(std::string_view sql) : s_(sql) {}

    RedoStatement statement() {
        RedoStatement st;
        skip_space();
        if (take_word("insert")) {
            st.op = RedoStatement::Op::kInsert;
            expect_word("into");
            table(st);
            skip_space();
            expect('(');
            std::vector<std::string> names;
            do {
                names.push_back(identifier());
            } while (take(','));
            expect(')');
            expect_word("values");
            expect('(');
            size_t i = 0;
            do {
                if (i >= names.size()) {
                    fail("no more values than columns");
                }
                st.values.push_back({names[i++], value()});
            } while (take(','));
            expect(')');
            if (i != names.size()) {
                fail(fmt::format("{} values for {} columns", i, names.size()));
            }
        } else if (take_word("update")) {
            st.op = RedoStatement::Op::kUpdate;
            table(st);
            alias_ = bare_word();  // `update "S"."T" a set a."C" = ...`
            if (alias_ == "set") {
                alias_.clear();
            } else {
                expect_word("set");
            }
            do {
                std::string name = column();
                expect('=');
                st.values.push_back({std::move(name), value()});
            } while (take(','));
            if (take_word("where")) {
                where(st);
            }
        } else if (take_word("delete")) {
            st.op = RedoStatement::Op::kDelete;
            expect_word("from");
            table(st);
            expect_word("where");
            where(st);
        } else {
            fail("insert, update or delete");
        }
        take(';');
        skip_space();
        if (pos_ != s_.size()) {
            fail("the end of the statement");
        }
        return st;
    }

private:
    [[noreturn]] void fail(const std::string& expected) const {
        std::string_view near = s_.substr(pos_, 40);
        throw fatal(
            fmt::format("SQL_REDO cannot be read at character {}: expected {}, found \"{}\"",
                        pos_ + 1, expected, near));
    }
    void skip_space() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])) != 0) {
            ++pos_;
        }
    }
    bool take(char c) {
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!take(c)) {
            fail(fmt::format("'{}'", c));
        }
    }
    // A keyword, case-insensitively, not followed by an identifier character.
    bool take_word(std::string_view word) {
        skip_space();
        if (s_.size() - pos_ < word.size()) {
            return false;
        }
        for (size_t i = 0; i < word.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(s_[pos_ + i])) != word[i]) {
                return false;
            }
        }
        size_t end = pos_ + word.size();
        if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) != 0 ||
                                s_[end] == '_' || s_[end] == '$' || s_[end] == '#')) {
            return false;
        }
        pos_ = end;
        return true;
    }
    void expect_word(std::string_view word) {
        if (!take_word(word)) {
            fail(std::string(word));
        }
    }
    // An unquoted word (an alias, or `set`), lower-cased; "" if none.
    std::string bare_word() {
        skip_space();
        size_t start = pos_;
        while (pos_ < s_.size() &&
               (std::isalnum(static_cast<unsigned char>(s_[pos_])) != 0 || s_[pos_] == '_')) {
            ++pos_;
        }
        std::string w(s_.substr(start, pos_ - start));
        for (char& c : w) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return w;
    }
    // "NAME": LogMiner quotes every identifier; one may hold spaces, #, $ or '.
    std::string identifier() {
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '"') {
            fail("a quoted identifier");
        }
        size_t end = s_.find('"', pos_ + 1);
        if (end == std::string_view::npos) {
            fail("the end of a quoted identifier");
        }
        std::string name(s_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return name;
    }
    // A column, with the update's alias prefix if it has one.
    std::string column() {
        skip_space();
        if (!alias_.empty() && s_.size() - pos_ > alias_.size() &&
            s_.substr(pos_, alias_.size()) == alias_ && s_[pos_ + alias_.size()] == '.') {
            pos_ += alias_.size() + 1;
        }
        return identifier();
    }
    void table(RedoStatement& st) {
        st.schema = identifier();
        expect('.');
        st.table = identifier();
    }
    void where(RedoStatement& st) {
        do {
            skip_space();
            if (take_word("rowid")) {
                expect('=');
                value();  // the row's address, not a column
                continue;
            }
            std::string name = column();
            if (take_word("is")) {
                if (take_word("not")) {
                    expect_word("null");
                    continue;  // says nothing of the value
                }
                expect_word("null");
                st.where.push_back({std::move(name), RedoValue{Kind::kNull, {}}});
                continue;
            }
            expect('=');
            st.where.push_back({std::move(name), value()});
        } while (take_word("and"));
    }
    // 'text' with '' for a quote.
    std::string literal() {
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '\'') {
            fail("a quoted literal");
        }
        std::string out;
        for (size_t i = pos_ + 1; i < s_.size(); ++i) {
            if (s_[i] != '\'') {
                out += s_[i];
                continue;
            }
            if (i + 1 < s_.size() && s_[i + 1] == '\'') {
                out += '\'';
                ++i;
                continue;
            }
            pos_ = i + 1;
            return out;
        }
        fail("the end of a quoted literal");
    }
    // UNISTR's argument: UTF-16 code units as \XXXX (surrogate pairs joined), \\ for a
    // backslash, anything else as it is.
    std::string unistr(const std::string& arg) const {
        std::string out;
        auto unit = [&](size_t at) -> std::optional<uint32_t> {
            if (at + 5 > arg.size() || arg[at] != '\\') {
                return std::nullopt;
            }
            uint32_t v = 0;
            for (size_t k = at + 1; k < at + 5; ++k) {
                auto c = static_cast<unsigned char>(arg[k]);
                if (std::isxdigit(c) == 0) {
                    return std::nullopt;
                }
                v = v * 16 + static_cast<uint32_t>(
                                 std::isdigit(c) != 0 ? c - '0' : std::tolower(c) - 'a' + 10);
            }
            return v;
        };
        for (size_t i = 0; i < arg.size();) {
            if (arg[i] != '\\') {
                out += arg[i++];
                continue;
            }
            if (i + 1 < arg.size() && arg[i + 1] == '\\') {
                out += '\\';
                i += 2;
                continue;
            }
            auto hi = unit(i);
            if (!hi) {
                fail("\\XXXX in UNISTR");
            }
            i += 5;
            uint32_t cp = *hi;
            if (cp >= 0xD800 && cp < 0xDC00) {
                auto lo = unit(i);
                if (!lo || *lo < 0xDC00 || *lo >= 0xE000) {
                    fail("the low half of a surrogate pair in UNISTR");
                }
                i += 5;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (*lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                fail("a high surrogate before a low one in UNISTR");
            }
            append_utf8(out, cp);
        }
        return out;
    }
    // One piece of a value: a literal, a function call, NULL, a bare number.
    RedoValue term() {
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == '\'') {
            return {Kind::kText, literal()};
        }
        if (s_.substr(pos_, 2) == "/*") {
            size_t end = s_.find("*/", pos_);
            std::string comment(
                s_.substr(pos_, end == std::string_view::npos ? 40 : end + 2 - pos_));
            fail("a value, not the comment " + comment);
        }
        if (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) != 0 ||
                                 s_[pos_] == '-' || s_[pos_] == '.')) {
            size_t start = pos_;
            while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) != 0 ||
                                        s_[pos_] == '.' || s_[pos_] == '-' || s_[pos_] == '+')) {
                ++pos_;
            }
            return {Kind::kNumber, std::string(s_.substr(start, pos_ - start))};
        }
        if (take_word("null")) {
            return {Kind::kNull, {}};
        }
        if (take_word("unsupported")) {
            take_word("type");
            return {Kind::kUnsupported, "Unsupported Type"};
        }
        std::string fn = bare_word();
        if (fn.empty()) {
            fail("a value");
        }
        expect('(');
        RedoValue v;
        if (fn == "empty_clob" || fn == "empty_blob") {
            v = {Kind::kEmptyLob, {}};
        } else if (fn == "xmltype") {
            while (pos_ < s_.size() && s_[pos_] != ')') {
                ++pos_;
            }
            v = {Kind::kUnsupported, "XMLType"};
        } else {
            std::string arg = literal();
            if (fn == "to_date") {
                expect(',');
                if (literal() != kDateMask) {
                    fail(
                        fmt::format("TO_DATE with the mask '{}' (the session's NLS settings "
                                    "were not pinned)",
                                    kDateMask));
                }
                v = {Kind::kDate, std::move(arg)};
            } else if (fn == "to_timestamp") {
                v = {Kind::kTimestamp, std::move(arg)};
            } else if (fn == "to_timestamp_tz") {
                v = {Kind::kTimestampTz, std::move(arg)};
            } else if (fn == "hextoraw") {
                for (char& c : arg) {
                    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
                        fail("hexadecimal digits in HEXTORAW");
                    }
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                }
                v = {Kind::kRaw, std::move(arg)};
            } else if (fn == "unistr") {
                v = {Kind::kText, unistr(arg)};
            } else if (fn == "to_yminterval") {
                v = {Kind::kYmInterval, std::move(arg)};
            } else if (fn == "to_dsinterval") {
                v = {Kind::kDsInterval, std::move(arg)};
            } else {
                fail("a function SQL_REDO uses, not " + fn);
            }
        }
        expect(')');
        return v;
    }
    // A term, or text terms joined by || (long text, UNISTR chains).
    RedoValue value() {
        skip_space();
        if (s_.substr(pos_, 10) == "/* JSON */") {
            pos_ += 10;
            term();
            return {Kind::kUnsupported, "native JSON"};
        }
        RedoValue v = term();
        for (;;) {
            skip_space();
            if (s_.substr(pos_, 2) != "||") {
                return v;
            }
            pos_ += 2;
            RedoValue next = term();
            if (v.kind != Kind::kText || next.kind != Kind::kText) {
                fail("text on both sides of ||");
            }
            v.text += next.text;
        }
    }

    std::string_view s_;
    size_t pos_ = 0;
    std::string alias_;
};

}  // namespace

RedoStatement parse_sql_redo(std::string_view sql) {
    return Scanner(sql).statement();
}

}  // namespace rep::oracle
