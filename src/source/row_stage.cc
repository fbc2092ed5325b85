#include "source/row_stage.h"

#include "base/error.h"

namespace rep::source {

void run_items(RowStage& stage, std::deque<ChangeItem>& items, StagedRows& scratch) {
    scratch.clear();
    for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].kind == ChangeItem::Kind::kChanges) {
            std::vector<Mutation>& ms = items[i].mutations;
            for (size_t j = 0; j < ms.size(); ++j) {
                // The reader decoded these rows on another core: ask for the next ones'
                // values (two steps ahead their array, one step ahead their text) while this
                // one goes through the stage, which reads every value.
                if (j + 2 < ms.size() && !ms[j + 2].values.empty()) {
                    __builtin_prefetch(ms[j + 2].values.data());
                }
                if (j + 1 < ms.size()) {
                    for (const Datum& d : ms[j + 1].values) {
                        __builtin_prefetch(d.text.data());
                    }
                }
                stage.process(std::move(ms[j]), static_cast<uint32_t>(i), scratch);
            }
            items[i].mutations.clear();
        }
    }
    stage.flush(scratch);
    // The stage answers in the order of the row changes, so the tags come in order.
    size_t next = 0;
    for (size_t i = 0; i < items.size(); ++i) {
        items[i].bytes = 0;
        while (next < scratch.size() && scratch.tags[next] == i) {
            items[i].bytes += ChangeItem::bytes_of(scratch.rows[next]);
            items[i].mutations.push_back(std::move(scratch.rows[next++]));
        }
    }
    if (next != scratch.size()) {
        for (ChangeItem& item : items) {
            item.mutations.clear();
        }
        throw fatal("the row stage answered out of the order of the source's row changes");
    }
}

}  // namespace rep::source
