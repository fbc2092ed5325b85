#include "staging/parallel_checkpoint.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace rep {
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

std::string encode_record(const WorkerRecord& record) {
    std::string out = "prefix " + record.prefix.str() + " applied";
    for (const LsnRange& r : record.ranges) {
        out += ' ';
        out += r.lo.str();
        out += '-';
        out += r.hi.str();
    }
    return out;
}

WorkerRecord decode_record(std::string_view text, const std::string& key) {
    auto bad = [&](std::string_view why) {
        return fatal(fmt::format(
            "staging memo row \"{}\" is not a parallel-apply checkpoint record ({}): \"{}\"; "
            "it is written only by replicator, so restore it or delete the row to resume from "
            "the plain checkpoint",
            key, why, text.substr(0, 200)));
    };
    std::vector<std::string_view> words = split_spaces(text);
    if (words.size() < 3 || words[0] != "prefix" || words[2] != "applied") {
        throw bad("expected \"prefix <LSN> applied <LSN>-<LSN> ...\"");
    }
    WorkerRecord record;
    auto prefix = Lsn::parse(words[1]);
    if (!prefix) {
        throw bad("bad prefix LSN");
    }
    record.prefix = *prefix;
    for (size_t i = 3; i < words.size(); ++i) {
        size_t dash = words[i].find('-');
        if (dash == std::string_view::npos) {
            throw bad("a range lacks its '-'");
        }
        auto lo = Lsn::parse(words[i].substr(0, dash));
        auto hi = Lsn::parse(words[i].substr(dash + 1));
        if (!lo || !hi || *hi < *lo) {
            throw bad("bad range");
        }
        record.ranges.push_back({*lo, *hi});
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

AppliedSet AppliedSet::recover(std::optional<Lsn> main, const std::vector<WorkerRecord>& records) {
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
        for (const LsnRange& range : r.ranges) {
            if (range.hi >= set.prefix_) {
                set.ranges_.push_back(range);
            }
        }
    }
    std::sort(set.ranges_.begin(), set.ranges_.end(),
              [](const LsnRange& a, const LsnRange& b) { return a.lo < b.lo; });
    std::vector<LsnRange> merged;
    for (const LsnRange& r : set.ranges_) {
        if (!merged.empty() && r.lo <= merged.back().hi) {
            merged.back().hi = std::max(merged.back().hi, r.hi);
        } else {
            merged.push_back(r);
        }
    }
    set.ranges_ = std::move(merged);
    return set;
}

bool AppliedSet::contains(Lsn commit_lsn) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), commit_lsn,
                               [](Lsn v, const LsnRange& r) { return v < r.lo; });
    if (it == ranges_.begin()) {
        return false;
    }
    --it;
    return commit_lsn <= it->hi;
}

}  // namespace rep
