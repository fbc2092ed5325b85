#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace rep::testing {

// Reads a file written by tests/tools/capture_pgoutput: a sequence of
// [uint32 length, big-endian][pgoutput payload]. Fails the test if the framing is broken.
inline std::vector<std::string> read_capture(const std::string& name) {
    std::string path = std::string(REP_TESTDATA_DIR) + "/" + name;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos + 4 <= data.size()) {
        uint32_t n = 0;
        for (size_t i = 0; i < 4; ++i) {
            n = (n << 8) | static_cast<uint8_t>(data[pos + i]);
        }
        pos += 4;
        if (data.size() - pos < n) {
            ADD_FAILURE() << path << " is truncated at byte " << pos;
            return out;
        }
        out.push_back(data.substr(pos, n));
        pos += n;
    }
    EXPECT_EQ(pos, data.size()) << path << " has trailing bytes";
    return out;
}

}  // namespace rep::testing
