#pragma once

#include "sequencer/table_hooks.h"
#include "target/segment_writer.h"

#include "script/js_context.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace rep::script {

// onWrite's argument: the segments' rows as MOLT's RowOps, in order, each with `meta`:
//   upsert  {action: "upsert", data: {column: value}, pk: [key values], meta}
//   delete  {action: "delete", pk: [key values], meta}
//   move    an upsert with `before: {key column: old value}` (a key change whose new row
//           lacks columns, written as an UPDATE of the old key)
// `names` are the target columns' names as engine strings; `proto_at` is the column named
// "__proto__" (SIZE_MAX: none), which JsContext::set_field defines as an own property.
JSObjectRef row_ops(JsContext& js, const std::vector<target::Segment>& segments,
                    const std::vector<JSStringRef>& names, size_t proto_at, JSObjectRef meta);

// api.write's argument back as rows of the table: `data` by target column name (a name the
// table does not have is an error), a delete's key from `pk` (or `data`), a key change from
// `before`. Throws rep::Error (fatal) naming the op at fault.
std::vector<sequencer::TableHooks::Transaction::RowWrite> rows_of_ops(
    JsContext& js, JSValueRef ops, const target::TargetTable& table,
    const std::unordered_map<std::string, size_t>& index);

}  // namespace rep::script
