#pragma once

#include "base/error.h"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rep::mysql {

// Little-endian reader over one binlog structure (an event body, a TABLE_MAP). Every overrun
// is a fatal error naming `context` (e.g. "binlog event type 19 at log position 1234") and the
// byte offset, so a malformed event is reported where it is, never read past.
class LeReader {
public:
    LeReader(std::string_view buf, std::string context) : buf_(buf), context_(std::move(context)) {}

    uint8_t u8() {
        need(1);
        return static_cast<uint8_t>(buf_[pos_++]);
    }
    uint16_t u16() { return static_cast<uint16_t>(le(2)); }
    uint32_t u32() { return static_cast<uint32_t>(le(4)); }
    uint64_t u64() { return le(8); }
    uint64_t le(size_t n) {
        need(n);
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) {
            v |= static_cast<uint64_t>(static_cast<uint8_t>(buf_[pos_ + i])) << (8 * i);
        }
        pos_ += n;
        return v;
    }
    // MySQL's length-encoded ("packed") integer.
    uint64_t packed() {
        uint8_t first = u8();
        if (first < 251) {
            return first;
        }
        switch (first) {
            case 252:
                return le(2);
            case 253:
                return le(3);
            case 254:
                return le(8);
            default:
                fail(fmt::format("invalid packed integer prefix {}", first));
        }
    }
    std::string_view bytes(size_t n) {
        need(n);
        std::string_view s = buf_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    void skip(size_t n) { bytes(n); }
    std::string_view rest() { return bytes(remaining()); }
    size_t remaining() const { return buf_.size() - pos_; }
    bool done() const { return pos_ == buf_.size(); }
    size_t pos() const { return pos_; }
    const uint8_t* ptr() const { return reinterpret_cast<const uint8_t*>(buf_.data()) + pos_; }
    [[noreturn]] void fail(std::string_view what) const {
        throw fatal(fmt::format("malformed {} ({} bytes): {} at byte {}", context_, buf_.size(),
                                what, pos_));
    }

private:
    void need(size_t n) const {
        if (buf_.size() - pos_ < n) {
            fail(fmt::format("needs {} more bytes", n));
        }
    }

    std::string_view buf_;
    std::string context_;
    size_t pos_ = 0;
};

}  // namespace rep::mysql
