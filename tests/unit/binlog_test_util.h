#pragma once

// Helpers shared by the binlog event tests: hand-built events (little-endian fields, event
// header and CRC32) and accessors for decoded ones.

#include "source/mysql/binlog_event.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>
#include <zlib.h>

namespace rep::mysql::test_util {

// ---- helpers for hand-built events ----

inline void put_le(std::string& s, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}

inline std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) {
        s.push_back(static_cast<char>(c));
    }
    return s;
}

// A whole event: the 19-byte common header (timestamp, type, server id, event size, log pos,
// flags; all little-endian), the body and, if `crc`, the CRC32 of everything before it.
inline std::string make_event(uint8_t type, const std::string& body, bool crc,
                              uint32_t log_pos = 1000, uint32_t server_id = 1, uint16_t flags = 0) {
    std::string e;
    put_le(e, 1700000000, 4);
    e.push_back(static_cast<char>(type));
    put_le(e, server_id, 4);
    put_le(e, 19 + body.size() + (crc ? 4 : 0), 4);
    put_le(e, log_pos, 4);
    put_le(e, flags, 2);
    e += body;
    if (crc) {
        auto c = ::crc32(0L, reinterpret_cast<const Bytef*>(e.data()), static_cast<uInt>(e.size()));
        put_le(e, c, 4);
    }
    return e;
}

// FORMAT_DESCRIPTION body (MySQL's Format_description_event): binlog version u16, server version
// char[50], create timestamp u32, common header length u8 (19), one post-header length per event
// type, then (checksum-aware servers) the checksum algorithm byte; the 4 checksum bytes follow.
inline std::string fde_body(const std::string& version, uint8_t alg) {
    std::string b;
    put_le(b, 4, 2);
    std::string v = version;
    v.resize(50, '\0');
    b += v;
    put_le(b, 0, 4);
    b.push_back(19);
    // MySQL 8.0's post-header lengths for types 1..41 (ROWS v2 = 10, TABLE_MAP = 8, GTID = 42).
    const std::string post =
        bytes({0, 13, 0, 8, 0, 0, 0, 0, 4,  0,  0,  0,  0,  0, 0, 0, 0, 0, 8, 0, 0,
               0, 0,  0, 0, 0, 0, 0, 0, 10, 10, 10, 42, 42, 0, 0, 0, 0, 0, 0, 0});
    b += post;
    b.push_back(static_cast<char>(alg));
    return b;
}

inline std::string fde_event(const std::string& version, bool crc) {
    std::string body = fde_body(version, crc ? 1 : 0);
    if (!crc) {
        // A checksum-aware server still reserves the 4 checksum bytes when checksums are off.
        std::string e = make_event(kFormatDescriptionEvent, body + std::string(4, '\0'), false);
        return e;
    }
    return make_event(kFormatDescriptionEvent, body, true);
}

template <typename T>
inline const T& as(const DecodedEvent& ev) {
    const T* p = std::get_if<T>(&ev.event);
    if (p == nullptr) {
        throw std::runtime_error("event " + std::to_string(ev.header.type) +
                                 " is not the expected variant");
    }
    return *p;
}

inline std::vector<std::string> texts(const std::vector<Datum>& row) {
    std::vector<std::string> out;
    for (const auto& d : row) {
        out.push_back(d.is_null() ? "<null>" : d.absent() ? "<absent>" : d.text);
    }
    return out;
}

inline std::vector<DecodedEvent> decode_all(BinlogDecoder& dec,
                                            const std::vector<std::string>& events) {
    std::vector<DecodedEvent> out;
    for (const auto& e : events) {
        out.push_back(dec.decode(e));
    }
    return out;
}

}  // namespace rep::mysql::test_util
