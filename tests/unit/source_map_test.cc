// Source maps of type-stripped code (script/source_map.h): error positions in the user's file.

#include "script/source_map.h"

#include <gtest/gtest.h>

namespace rep::script {
namespace {

TEST(SourceMap, ColumnsMoveByWhatWasRemovedBeforeThemOnTheLine) {
    // Line 1: generated column 0 is the user's 0, generated 5 the user's 13 (8 characters,
    // ": number", removed before it). Line 2: generated 0 is the user's line 2 column 0,
    // generated 2 its column 2. Each field is a difference from the one before it.
    SourceMap m("AAAA,KAAa;AACb,EAAE");
    EXPECT_EQ(m.original(1, 1), std::make_pair(1, 1));
    EXPECT_EQ(m.original(1, 3), std::make_pair(1, 3));
    EXPECT_EQ(m.original(1, 6), std::make_pair(1, 14));
    EXPECT_EQ(m.original(1, 8), std::make_pair(1, 16));
    EXPECT_EQ(m.original(2, 1), std::make_pair(2, 1));
    EXPECT_EQ(m.original(2, 4), std::make_pair(2, 4));
    EXPECT_EQ(m.original(3, 7), std::make_pair(3, 7)) << "a line the map does not have";
}

TEST(SourceMap, MalformedMappingsMapNothing) {
    SourceMap m("AAAA,K!Aa");
    EXPECT_EQ(m.original(1, 6), std::make_pair(1, 6));
    EXPECT_EQ(SourceMap().original(4, 2), std::make_pair(4, 2));
}

TEST(SourceMap, LocationsThroughTheMapOfTheirFile) {
    SourceMaps maps{{"/s/a.ts", std::make_shared<const SourceMap>("AAAA,KAAa")}};
    // The first line also loses the wrapper the engine saw before the code (38 here).
    EXPECT_EQ(original_location("/s/a.ts:1:44", maps, 38), "/s/a.ts:1:14");
    EXPECT_EQ(original_location("/s/b.ts:1:44", maps, 38), "/s/b.ts:1:44") << "no map";
    EXPECT_EQ(original_location("/s/a.ts", maps, 38), "/s/a.ts");
    EXPECT_EQ(original_location("c:/s/a.ts:x:1", maps, 38), "c:/s/a.ts:x:1");
}

}  // namespace
}  // namespace rep::script
