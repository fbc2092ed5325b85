#include "staging/parallel_checkpoint.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep::staging {
namespace {

std::vector<std::string_view> split_spaces(std::string_view text) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') {
            ++i;
        }
        size_t j = i;
        while (j < text.size() && text[j] != ' ') {
            ++j;
        }
        if (j > i) {
            out.push_back(text.substr(i, j - i));
        }
        i = j;
    }
    return out;
}

}  // namespace

std::string encode_record(const WorkerRecord& record, const PositionCodec& codec) {
    std::string out = "prefix " + codec.at(record.prefix).text + " applied";
    for (const OrdinalRange& r : record.ranges) {
        out += ' ';
        out += codec.at(r.lo).text;
        out += '-';
        out += codec.at(r.hi).text;
    }
    return out;
}

WorkerRecord decode_record(std::string_view text, const std::string& key,
                           const PositionCodec& codec) {
    auto bad = [&](std::string_view why) {
        return fatal(fmt::format(
            "staging memo row \"{}\" is not a parallel-apply checkpoint record ({}): \"{}\"; "
            "it is written only by replicator, so restore it or delete the row to resume from "
            "the plain checkpoint",
            key, why, text.substr(0, 200)));
    };
    std::vector<std::string_view> words = split_spaces(text);
    if (words.size() < 3 || words[0] != "prefix" || words[2] != "applied") {
        throw bad(fmt::format("expected \"prefix <{0}> applied <{0}>-<{0}> ...\"", codec.kind()));
    }
    WorkerRecord record;
    auto prefix = codec.parse(words[1]);
    if (!prefix) {
        throw bad(fmt::format("bad prefix {}", codec.kind()));
    }
    record.prefix = prefix->ordinal;
    for (size_t i = 3; i < words.size(); ++i) {
        size_t dash = words[i].find('-');
        if (dash == std::string_view::npos) {
            throw bad("a range lacks its '-'");
        }
        auto lo = codec.parse(words[i].substr(0, dash));
        auto hi = codec.parse(words[i].substr(dash + 1));
        if (!lo || !hi || hi->ordinal < lo->ordinal) {
            throw bad("bad range");
        }
        record.ranges.push_back({lo->ordinal, hi->ordinal});
    }
    return record;
}

std::string worker_record_key(const std::string& main, size_t worker) {
    return fmt::format("{}#w{}", main, worker);
}

std::string carried_record_key(const std::string& main) {
    return main + "#carried";
}

std::string record_key_prefix(const std::string& main) {
    return main + "#";
}

AppliedSet AppliedSet::recover(std::optional<Ordinal> main,
                               const std::vector<WorkerRecord>& records) {
    AppliedSet set;
    if (main) {
        set.prefix_ = *main;
    }
    for (const WorkerRecord& r : records) {
        set.prefix_ = std::max(set.prefix_, r.prefix);
    }
    // A range lies wholly beyond the prefix or wholly within it: the prefix only ever moves
    // over whole committed groups. One within it has hi < (end of its last commit) <= prefix;
    // one beyond it starts at or after the prefix (a commit record starts at or after the end
    // of the one before). Keep those the source may still send again.
    for (const WorkerRecord& r : records) {
        for (const OrdinalRange& range : r.ranges) {
            if (range.hi >= set.prefix_) {
                set.ranges_.push_back(range);
            }
        }
    }
    std::sort(set.ranges_.begin(), set.ranges_.end(),
              [](const OrdinalRange& a, const OrdinalRange& b) { return a.lo < b.lo; });
    std::vector<OrdinalRange> merged;
    for (const OrdinalRange& r : set.ranges_) {
        if (!merged.empty() && r.lo <= merged.back().hi) {
            merged.back().hi = std::max(merged.back().hi, r.hi);
        } else {
            merged.push_back(r);
        }
    }
    set.ranges_ = std::move(merged);
    return set;
}

bool AppliedSet::contains(Ordinal transaction) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), transaction,
                               [](Ordinal v, const OrdinalRange& r) { return v < r.lo; });
    if (it == ranges_.begin()) {
        return false;
    }
    --it;
    return transaction <= it->hi;
}

}  // namespace rep::staging
