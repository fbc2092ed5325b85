#include "source/mysql/dump_command.h"

namespace rep::mysql {
namespace {

// BINLOG_THROUGH_GTID: the payload carries the executed GTID set after the position.
constexpr uint16_t kBinlogThroughGtid = 0x04;

void put_le(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

}  // namespace

std::string com_binlog_dump_gtid_payload(uint32_t server_id, const MysqlGtidSet& executed,
                                         uint16_t extra_flags) {
    std::string data = executed.encode();
    std::string out;
    out.reserve(2 + 4 + 4 + 8 + 4 + data.size());
    put_le(out, kBinlogThroughGtid | extra_flags, 2);
    put_le(out, server_id, 4);
    put_le(out, 0, 4);  // binlog-filename-len; the file name itself is empty
    put_le(out, 4, 8);  // binlog-pos: just past the magic header
    put_le(out, data.size(), 4);
    out += data;
    return out;
}

}  // namespace rep::mysql
