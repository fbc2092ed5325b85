#include "source/oracle/event_log.h"

#include "base/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>
#include <unordered_map>

namespace rep::oracle {
namespace {

// A spill that failed: usually a full disk, which freeing space cures. Nothing of the
// transaction has reached the target; the window is mined again.
Error spill_failed(const std::filesystem::path& dir, const char* what, int err) {
    return Error(ErrorKind::kRetryable,
                 fmt::format("{} a spill file of a large open transaction in {} failed: {}. "
                             "Open Oracle transactions beyond --transactionBufferBytes are "
                             "kept under --dataDir until they end: free space there",
                             what, dir.string(), std::generic_category().message(err)));
}

void put_u32(std::string& out, uint32_t v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_string(std::string& out, const std::string& s) {
    put_u32(out, static_cast<uint32_t>(s.size()));
    out += s;
}

void encode(std::string& out, const TxnEvent& e) {
    out.append(reinterpret_cast<const char*>(&e.scn), sizeof e.scn);
    out.push_back(e.undo ? 1 : 0);
    put_string(out, e.row_id);
    put_string(out, e.table);
    put_string(out, e.sql_redo);
}

// Reads one encoded event at `pos`; false if the data ends early (a corrupt file).
bool decode(const std::string& in, size_t& pos, TxnEvent& e) {
    auto take = [&](void* dst, size_t n) {
        if (in.size() - pos < n) {
            return false;
        }
        std::memcpy(dst, in.data() + pos, n);
        pos += n;
        return true;
    };
    auto take_string = [&](std::string& s) {
        uint32_t n = 0;
        if (!take(&n, sizeof n) || in.size() - pos < n) {
            return false;
        }
        s.assign(in, pos, n);
        pos += n;
        return true;
    };
    char undo = 0;
    if (!take(&e.scn, sizeof e.scn) || !take(&undo, 1)) {
        return false;
    }
    e.undo = undo != 0;
    return take_string(e.row_id) && take_string(e.table) && take_string(e.sql_redo);
}

}  // namespace

EventLog::EventLog(EventLog&& other) noexcept
    : tail_(std::move(other.tail_)),
      tail_bytes_(other.tail_bytes_),
      chunks_(std::move(other.chunks_)),
      spilled_(other.spilled_),
      file_bytes_(other.file_bytes_),
      fd_(other.fd_),
      dir_(std::move(other.dir_)) {
    other.fd_ = -1;
    other.tail_bytes_ = 0;
    other.spilled_ = 0;
    other.file_bytes_ = 0;
}

EventLog& EventLog::operator=(EventLog&& other) noexcept {
    if (this != &other) {
        close();
        tail_ = std::move(other.tail_);
        tail_bytes_ = other.tail_bytes_;
        chunks_ = std::move(other.chunks_);
        spilled_ = other.spilled_;
        file_bytes_ = other.file_bytes_;
        fd_ = other.fd_;
        dir_ = std::move(other.dir_);
        other.fd_ = -1;
        other.tail_bytes_ = 0;
        other.spilled_ = 0;
        other.file_bytes_ = 0;
    }
    return *this;
}

EventLog::~EventLog() {
    close();
}

void EventLog::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void EventLog::push(TxnEvent event) {
    tail_bytes_ += event.bytes();
    tail_.push_back(std::move(event));
}

void EventLog::spill(const std::filesystem::path& dir) {
    if (tail_.empty()) {
        return;
    }
    if (fd_ < 0) {
        dir_ = dir;
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            throw spill_failed(dir, "creating", ec.value());
        }
        std::string path = (dir / "txn-XXXXXX").string();
        int fd = ::mkostemp(path.data(), O_CLOEXEC);
        if (fd < 0) {
            throw spill_failed(dir, "creating", errno);
        }
        ::unlink(path.c_str());
        fd_ = fd;
    }
    // All or nothing: a write that fails part-way (a full disk) leaves the events in memory
    // only, as before the call, so that the window's rollback finds the log it knew.
    const size_t chunks = chunks_.size();
    const size_t spilled = spilled_;
    const uint64_t file_bytes = file_bytes_;
    try {
        std::string data;
        size_t count = 0;
        for (const TxnEvent& e : tail_) {
            encode(data, e);
            ++count;
            if (data.size() >= kChunkBytes) {
                write_chunk(data, count);
                data.clear();
                count = 0;
            }
        }
        if (count > 0) {
            write_chunk(data, count);
        }
    } catch (...) {
        chunks_.resize(chunks);
        spilled_ = spilled;
        file_bytes_ = file_bytes;
        throw;
    }
    tail_.clear();
    tail_.shrink_to_fit();
    tail_bytes_ = 0;
}

void EventLog::write_chunk(const std::string& data, size_t count) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                             static_cast<off_t>(file_bytes_ + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = n < 0 ? errno : ENOSPC;
            throw spill_failed(dir_, "writing", err);
        }
        done += static_cast<size_t>(n);
    }
    chunks_.push_back({file_bytes_, data.size(), spilled_, count});
    file_bytes_ += data.size();
    spilled_ += count;
}

std::vector<TxnEvent> EventLog::read_chunk(const Chunk& c) const {
    std::string data(c.bytes, '\0');
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pread(fd_, data.data() + done, data.size() - done,
                            static_cast<off_t>(c.offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw spill_failed(dir_, "reading", n < 0 ? errno : EIO);
        }
        done += static_cast<size_t>(n);
    }
    std::vector<TxnEvent> events(c.count);
    size_t pos = 0;
    for (TxnEvent& e : events) {
        if (!decode(data, pos, e)) {
            throw spill_failed(dir_, "reading", EIO);
        }
    }
    return events;
}

void EventLog::truncate(size_t n) {
    if (n >= spilled_) {
        size_t keep = std::min(n - spilled_, tail_.size());
        for (size_t i = keep; i < tail_.size(); ++i) {
            tail_bytes_ -= tail_[i].bytes();
        }
        tail_.resize(keep);
        return;
    }
    // The cut falls inside the file: the chunk holding event n comes back to memory cut
    // short, and the file ends where that chunk began.
    size_t k = chunks_.size();
    while (k > 0 && chunks_[k - 1].first > n) {
        --k;
    }
    const Chunk c = chunks_.at(k - 1);
    std::vector<TxnEvent> kept = read_chunk(c);
    kept.resize(n - c.first);
    chunks_.resize(k - 1);
    spilled_ = c.first;
    file_bytes_ = c.offset;
    // Only frees disk space: the next chunk is written at file_bytes_ whatever the size.
    (void)::ftruncate(fd_, static_cast<off_t>(file_bytes_));
    tail_.clear();
    tail_bytes_ = 0;
    for (TxnEvent& e : kept) {
        push(std::move(e));
    }
}

void EventLog::for_each(const std::function<void(const TxnEvent&, size_t)>& fn) const {
    for (const Chunk& c : chunks_) {
        std::vector<TxnEvent> events = read_chunk(c);
        for (size_t i = 0; i < events.size(); ++i) {
            fn(events[i], c.first + i);
        }
    }
    for (size_t i = 0; i < tail_.size(); ++i) {
        fn(tail_[i], spilled_ + i);
    }
}

void EventLog::for_each_reverse(const std::function<void(const TxnEvent&, size_t)>& fn) const {
    for (size_t i = tail_.size(); i-- > 0;) {
        fn(tail_[i], spilled_ + i);
    }
    for (size_t k = chunks_.size(); k-- > 0;) {
        std::vector<TxnEvent> events = read_chunk(chunks_[k]);
        for (size_t i = events.size(); i-- > 0;) {
            fn(events[i], chunks_[k].first + i);
        }
    }
}

LiveEvents::LiveEvents(EventLog log) : log_(std::move(log)), cancelled_(log_.size(), false) {
    // Bracket matching read backwards: an undo marker waits for the nearest earlier live
    // event of its ROW_ID, exactly the one a forward LIFO stack would give it.
    std::unordered_map<std::string, size_t> pending;
    log_.for_each_reverse([&](const TxnEvent& e, size_t i) {
        if (e.undo) {
            cancelled_[i] = true;
            ++pending[e.row_id];
            return;
        }
        auto it = pending.find(e.row_id);
        if (it != pending.end()) {
            cancelled_[i] = true;
            if (--it->second == 0) {
                pending.erase(it);
            }
        }
    });
    for (bool c : cancelled_) {
        live_ += c ? 0 : 1;
    }
}

void LiveEvents::for_each(const std::function<void(const TxnEvent&)>& fn) const {
    log_.for_each([&](const TxnEvent& e, size_t i) {
        if (!cancelled_[i]) {
            fn(e);
        }
    });
}

std::vector<TxnEvent> LiveEvents::to_vector() const {
    std::vector<TxnEvent> out;
    for_each([&](const TxnEvent& e) { out.push_back(e); });
    return out;
}

void LiveEvents::clear() {
    log_ = EventLog();
    cancelled_.clear();
    live_ = 0;
}

}  // namespace rep::oracle
