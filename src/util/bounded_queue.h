#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace rep::util {

// A FIFO joining two threads, bounded by the total weight of what it holds (T::weight()), so
// back-pressure is explicit: push() waits while the queue is full. With a byte capacity it is
// also bounded by the bytes its items hold (T::bytes, as their producer counted them), so
// wide rows cannot make a queue of a few thousand rows hold gigabytes (an item's count must
// not change while it is queued: it is taken off again at pop). One item heavier than
// either capacity is still accepted when the queue is empty, so nothing can wedge it.
// close() wakes every waiter; afterwards push() drops items and pop() drains what is left.
template <typename T>
class BoundedQueue {
public:
    // `byte_capacity` 0: weights only.
    explicit BoundedQueue(size_t capacity, size_t byte_capacity = 0)
        : capacity_(capacity == 0 ? 1 : capacity), byte_capacity_(byte_capacity) {}

    // Waits at most `timeout` for room. Returns false (and leaves `item` untouched) on timeout
    // or when the queue is closed, so the caller can do periodic work while it waits.
    template <typename Rep, typename Period>
    bool push_for(T& item, std::chrono::duration<Rep, Period> timeout) {
        size_t b = bytes_of(item);
        std::unique_lock lock(mu_);
        size_t w = item.weight();
        if (!not_full_.wait_for(lock, timeout, [&] {
                return closed_ || items_.empty() ||
                       (weight_ + w <= capacity_ &&
                        (byte_capacity_ == 0 || bytes_ + b <= byte_capacity_));
            })) {
            return false;
        }
        if (closed_) {
            return false;
        }
        weight_ += w;
        bytes_ += b;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }

    template <typename Rep, typename Period>
    std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
        std::unique_lock lock(mu_);
        if (!not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); })) {
            return std::nullopt;
        }
        if (items_.empty()) {
            return std::nullopt;
        }
        T item = std::move(items_.front());
        items_.pop_front();
        weight_ -= item.weight();
        bytes_ -= bytes_of(item);
        not_full_.notify_all();
        return item;
    }

    // Takes everything queued without waiting (possibly nothing). A consumer much faster than
    // its producer can poll with this instead of waking up for every single item.
    std::deque<T> take_all() {
        std::lock_guard lock(mu_);
        std::deque<T> out;
        out.swap(items_);
        if (!out.empty()) {
            weight_ = 0;
            bytes_ = 0;
            not_full_.notify_all();
        }
        return out;
    }

    void close() {
        std::lock_guard lock(mu_);
        closed_ = true;
        not_empty_.notify_all();
        not_full_.notify_all();
    }
    bool closed() const {
        std::lock_guard lock(mu_);
        return closed_;
    }
    bool empty() const {
        std::lock_guard lock(mu_);
        return items_.empty();
    }
    size_t weight() const {
        std::lock_guard lock(mu_);
        return weight_;
    }
    size_t capacity() const { return capacity_; }
    size_t bytes() const {
        std::lock_guard lock(mu_);
        return bytes_;
    }

private:
    size_t bytes_of(const T& item) const {
        if constexpr (requires { item.bytes; }) {
            return byte_capacity_ == 0 ? 0 : item.bytes;
        } else {
            return 0;
        }
    }

    mutable std::mutex mu_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<T> items_;
    size_t weight_ = 0;
    size_t bytes_ = 0;
    size_t capacity_;
    size_t byte_capacity_;
    bool closed_ = false;
};

}  // namespace rep::util
