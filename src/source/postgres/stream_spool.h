#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace rep::pg {

// Keeps the messages of in-progress transactions that the server streams (protocol 2,
// streaming 'on') on disk until their Stream Commit, so a transaction of any size costs
// bounded memory. One file per top-level xid under `dir`: a sequence of
// [uint32 length, big-endian][pgoutput message as received, xid prefix included].
//
// A stream abort of the top-level xid deletes its file. A stream abort of a subtransaction
// records the subxid; replay skips messages whose xid is an aborted subtransaction (each
// nested subtransaction gets its own abort message, so no ordering assumption is needed).
// Not thread-safe.
class StreamSpool {
public:
    // Creates `dir` and removes files left from an earlier run (their transactions will be
    // streamed again from the checkpoint).
    explicit StreamSpool(std::filesystem::path dir);
    ~StreamSpool();

    void append(uint32_t xid, std::string_view message);
    // Flushes buffered writes, at Stream Stop.
    void flush();
    void abort(uint32_t xid, uint32_t subxid);
    // Calls `fn(message, message_xid)` for every kept message of `xid`, in order, then deletes
    // the file. Throws rep::Error if the file cannot be read.
    void replay(uint32_t xid, const std::function<void(std::string_view)>& fn);
    size_t open_transactions() const { return files_.size(); }

private:
    struct File {
        std::filesystem::path path;
        std::ofstream out;
        std::set<uint32_t> aborted;
        uint64_t messages = 0;
    };
    File& file(uint32_t xid);
    void remove(uint32_t xid);

    std::filesystem::path dir_;
    std::map<uint32_t, std::unique_ptr<File>> files_;
};

// Extracts the xid that pgoutput puts after the type byte of a message inside a stream.
uint32_t streamed_message_xid(std::string_view message);

}  // namespace rep::pg
