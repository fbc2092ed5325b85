#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rep::mysql {

struct TableMap;

// The characters of one character set that is not a Unicode encoding (cp1251, gbk, sjis,
// ujis, ...), as the source server itself converts them to utf8mb4. Sequences are 1 to 3
// bytes; a byte that is a character of its own is never the start of a longer one (true of
// every such set MySQL and MariaDB have), so text decodes left to right without lookahead.
class CharTable {
public:
    // `utf8` is the text of the sequence `bytes`, or nullopt where the server has no Unicode
    // character for it (its conversion gives '?'). A byte added as a character of its own is
    // one wherever it appears, whichever was added first: longer sequences it leads are
    // never looked up.
    void add(std::string_view bytes, std::optional<std::string> utf8);

    // Appends `n` bytes of text as UTF-8. Returns the offset of the first byte that does not
    // start a known sequence (or one without a Unicode character), or npos when all of it
    // converted; on a failure `out` holds the text before that byte.
    size_t to_utf8(const uint8_t* p, size_t n, std::string& out) const;

    size_t size() const { return multi_.size() + singles_; }

private:
    enum class First : uint8_t { kNone, kChar, kUnmapped, kLead };
    std::array<First, 256> first_{};
    std::array<std::string, 256> single_;
    // Longer sequences by their bytes, big-endian, tagged with their length in the top byte.
    std::unordered_map<uint32_t, std::optional<std::string>> multi_;
    size_t singles_ = 0;
};

// Text of the source's character sets as UTF-8, by the collation id the binary log gives
// each character column. What each collation id's character set is comes from the server
// (information_schema, read once per connection); a few ids are known without it (the
// binary collation, latin1's, MySQL's and MariaDB's usual utf8 ones) so the decoder's
// fixtures need no server. Id 0 means the binary log gave none (never from a server that
// passed preflight) and is taken as UTF-8, as before.
//
// - utf8, utf8mb3, utf8mb4: passed as they are.
// - latin1: MySQL's latin1 (Windows cp1252, with the five bytes cp1252 leaves undefined as
//   the C1 controls), converted here.
// - ucs2, utf16, utf16le, utf32: decoded here; ill-formed text (a lone surrogate, a partial
//   code unit) is an error.
// - every other set of 1 to 3 bytes per character: the server's own conversion of every
//   byte sequence, loaded when a replicated table first has a column in it (`prepare`), so
//   the target sees exactly what a MySQL client reading the column as utf8mb4 sees. A
//   sequence the server cannot convert (it would give '?') is an error, never a '?'.
// - gb18030 (4-byte sequences; MySQL 8 only): ASCII-only values pass, others are an error.
class Charsets {
public:
    // Loads a character set's table from the server. `maxlen` is its longest character.
    using Loader = std::function<CharTable(const std::string& charset, int maxlen)>;

    Charsets();
    // Not copied: by_small_id_ points into collations_.
    Charsets(const Charsets&) = delete;
    Charsets& operator=(const Charsets&) = delete;

    // A collation of the server: its id, full name, character set and that set's longest
    // character in bytes (information_schema.CHARACTER_SETS.MAXLEN).
    void add_collation(uint32_t id, const std::string& name, const std::string& charset,
                       int maxlen);
    // The id of a collation by its full name (information_schema.COLUMNS.COLLATION_NAME).
    std::optional<uint32_t> id_of(const std::string& collation_name) const;
    void set_loader(Loader loader) { loader_ = std::move(loader); }

    // Loads what converting the character columns of `map` needs. Throws rep::Error (fatal)
    // naming table and column for a collation id the server did not list; a loader's errors
    // pass through.
    void prepare(const TableMap& map);

    // Appends `n` bytes of a column in `collation` as UTF-8. Throws rep::Error (fatal)
    // saying which character set and which byte; the caller names table and column.
    void to_utf8(uint32_t collation, const uint8_t* p, size_t n, std::string& out) const;

    // The character set of a collation id ("" if unknown), for messages.
    std::string charset_of(uint32_t collation) const;

private:
    enum class Kind : uint8_t {
        kUtf8,
        kBinary,
        kLatin1,
        kUcs2,
        kUtf16,
        kUtf16le,
        kUtf32,
        kTable,
        kAsciiOnly
    };
    struct Collation {
        std::string charset;
        Kind kind = Kind::kUtf8;
        int maxlen = 1;
    };
    const Collation* find(uint32_t id) const;

    std::unordered_map<uint32_t, Collation> collations_;  // nodes: pointers stay valid
    // collations_ by id below 256 (MySQL's classic ids), without hashing: one lookup per value.
    std::array<const Collation*, 256> by_small_id_{};
    std::unordered_map<std::string, uint32_t> ids_;  // full collation name -> id
    std::unordered_map<std::string, CharTable> tables_;
    Loader loader_;
};

}  // namespace rep::mysql
