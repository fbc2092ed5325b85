// The queue between threads: bounded by row changes, and with a byte capacity also by the
// bytes of their values, so wide rows cannot make it hold gigabytes.

#include "util/bounded_queue.h"

#include "core/change_item.h"

#include <gtest/gtest.h>

#include <string>

namespace rep::util {
namespace {

using namespace std::chrono_literals;

// One row change whose one value is `bytes` long.
ChangeItem wide(size_t bytes) {
    ChangeItem item;
    Mutation m;
    m.values = {Datum::value(std::string(bytes, 'x'))};
    item.mutations.push_back(std::move(m));
    item.bytes = item.approx_bytes();  // as the TransactionEmitter counts them
    return item;
}

TEST(BoundedQueue, WideRowsFillItByBytesBeforeRows) {
    BoundedQueue<ChangeItem> q(100, 10000);
    ChangeItem a = wide(6000);
    ASSERT_TRUE(q.push_for(a, 0ms));
    EXPECT_EQ(q.weight(), 1u);
    EXPECT_GE(q.bytes(), 6000u);
    ChangeItem b = wide(6000);
    EXPECT_FALSE(q.push_for(b, 0ms)) << "one row in, but 12 kB of values over 10 kB";
    ASSERT_TRUE(q.pop_for(0ms));
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_TRUE(q.push_for(b, 0ms));
    // take_all empties the byte count too.
    EXPECT_EQ(q.take_all().size(), 1u);
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(BoundedQueue, AnItemLargerThanTheByteCapacityGoesWhenTheQueueIsEmpty) {
    BoundedQueue<ChangeItem> q(100, 1000);
    ChangeItem huge = wide(50000);
    EXPECT_TRUE(q.push_for(huge, 0ms)) << "nothing could ever make room for it otherwise";
    ChangeItem small = wide(10);
    EXPECT_FALSE(q.push_for(small, 0ms));
}

TEST(BoundedQueue, WithoutAByteCapacityOnlyRowsCount) {
    BoundedQueue<ChangeItem> q(2);
    ChangeItem a = wide(1 << 20);
    ChangeItem b = wide(1 << 20);
    ChangeItem c = wide(1);
    EXPECT_TRUE(q.push_for(a, 0ms));
    EXPECT_TRUE(q.push_for(b, 0ms));
    EXPECT_FALSE(q.push_for(c, 0ms)) << "two rows: full";
    EXPECT_EQ(q.bytes(), 0u) << "not counted";
}

}  // namespace
}  // namespace rep::util
