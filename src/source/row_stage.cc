#include "source/row_stage.h"

#include "base/error.h"

namespace rep::source {

void run_items(RowStage& stage, std::deque<ChangeItem>& items, StagedRows& scratch) {
    scratch.clear();
    for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].kind == ChangeItem::Kind::kChanges) {
            for (Mutation& m : items[i].mutations) {
                stage.process(std::move(m), static_cast<uint32_t>(i), scratch);
            }
            items[i].mutations.clear();
        }
    }
    stage.flush(scratch);
    // The stage answers in the order of the row changes, so the tags come in order.
    size_t next = 0;
    for (size_t i = 0; i < items.size(); ++i) {
        while (next < scratch.size() && scratch.tags[next] == i) {
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
