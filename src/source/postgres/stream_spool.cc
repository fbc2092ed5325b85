#include "source/postgres/stream_spool.h"

#include "base/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <system_error>

namespace rep::pg {
namespace {

// A write that failed: usually a full disk, which freeing space (or a restart, which deletes
// the spool files) cures, so it is retryable. Nothing of the transaction has been applied;
// the server streams it again from the checkpoint.
Error write_failed(const std::filesystem::path& path, int err) {
    return Error(ErrorKind::kRetryable,
                 fmt::format("writing spool file {} failed: {}. In-progress transactions the "
                             "source streams are kept under --dataDir until they commit: free "
                             "space there (a transaction needs about its size in WAL), or pass "
                             "--disableStreaming so that the source spills them itself",
                             path.string(),
                             err != 0 ? std::generic_category().message(err) : "unknown error"));
}

}  // namespace

uint32_t streamed_message_xid(std::string_view m) {
    if (m.size() < 5) {
        return 0;
    }
    return (static_cast<uint32_t>(static_cast<uint8_t>(m[1])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(m[2])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(m[3])) << 8) |
           static_cast<uint32_t>(static_cast<uint8_t>(m[4]));
}

StreamSpool::StreamSpool(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        throw fatal(
            fmt::format("cannot create spool directory {} for streamed transactions: {} "
                        "(set --dataDir to a writable directory)",
                        dir_.string(), ec.message()));
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
        if (entry.path().extension() == ".spool") {
            std::filesystem::remove(entry.path(), ec);
        }
    }
}

StreamSpool::~StreamSpool() {
    for (auto& [xid, f] : files_) {
        f->out.close();
        std::error_code ec;
        std::filesystem::remove(f->path, ec);
    }
}

StreamSpool::File& StreamSpool::file(uint32_t xid) {
    auto& slot = files_[xid];
    if (!slot) {
        slot = std::make_unique<File>();
        slot->path = dir_ / fmt::format("xid-{}.spool", xid);
        errno = 0;
        slot->out.open(slot->path, std::ios::binary | std::ios::trunc);
        if (!slot->out) {
            int err = errno;
            files_.erase(xid);
            throw write_failed(dir_ / fmt::format("xid-{}.spool", xid), err);
        }
    }
    return *slot;
}

void StreamSpool::append(uint32_t xid, std::string_view message) {
    File& f = file(xid);
    char len[4];
    auto n = static_cast<uint32_t>(message.size());
    len[0] = static_cast<char>(n >> 24);
    len[1] = static_cast<char>(n >> 16);
    len[2] = static_cast<char>(n >> 8);
    len[3] = static_cast<char>(n);
    errno = 0;
    f.out.write(len, 4);
    f.out.write(message.data(), static_cast<std::streamsize>(message.size()));
    if (!f.out) {
        throw write_failed(f.path, errno);
    }
    ++f.messages;
}

void StreamSpool::flush() {
    for (auto& [xid, f] : files_) {
        errno = 0;
        f->out.flush();
        if (!f->out) {
            throw write_failed(f->path, errno);
        }
    }
}

void StreamSpool::remove(uint32_t xid) {
    auto it = files_.find(xid);
    if (it == files_.end()) {
        return;
    }
    it->second->out.close();
    std::error_code ec;
    std::filesystem::remove(it->second->path, ec);
    files_.erase(it);
}

void StreamSpool::abort(uint32_t xid, uint32_t subxid) {
    if (xid == subxid) {
        remove(xid);
        return;
    }
    auto it = files_.find(xid);
    if (it != files_.end()) {
        it->second->aborted.insert(subxid);
    }
}

void StreamSpool::replay(uint32_t xid, const std::function<void(std::string_view)>& fn) {
    auto it = files_.find(xid);
    if (it == files_.end()) {
        return;  // a streamed transaction with no changes we kept
    }
    File& f = *it->second;
    errno = 0;
    f.out.close();
    if (f.out.fail()) {
        throw write_failed(f.path, errno);
    }
    std::ifstream in(f.path, std::ios::binary);
    std::string buf;
    for (uint64_t i = 0; i < f.messages; ++i) {
        unsigned char len[4];
        if (!in.read(reinterpret_cast<char*>(len), 4)) {
            throw fatal(fmt::format("spool file {} is truncated", f.path.string()));
        }
        uint32_t n = (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) | (uint32_t{len[2]} << 8) |
                     uint32_t{len[3]};
        buf.resize(n);
        if (!in.read(buf.data(), n)) {
            throw fatal(fmt::format("spool file {} is truncated", f.path.string()));
        }
        if (buf.size() >= 5 && buf[0] != 'R' && f.aborted.count(streamed_message_xid(buf)) != 0) {
            continue;
        }
        fn(buf);
    }
    remove(xid);
}

}  // namespace rep::pg
