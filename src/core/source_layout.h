#pragma once

#include "core/mutation.h"

#include <memory>
#include <string>
#include <vector>

namespace rep {

// A source table's columns as the source's own catalog describes them at start-up, before any
// change has arrived: what the stream will announce (column names, key flags) plus what the
// target preflight needs to judge whether the target columns can take the values
// (target/schema_report.h). One per table the source sends.
struct SourceLayout {
    std::shared_ptr<const Relation> relation;  // columns in the stream's order, key flags
    // Per column: the source's type as the source spells it ("int4range", "varchar(20)").
    std::vector<std::string> types;
    // Per column: "" for an ordinary type, else the kind of type whose text form only a column
    // of the same type or a string column can take ("range", "multirange", "geometric",
    // "xml", "money", "macaddr", or "array of <kind>"). CockroachDB has none of these types.
    std::vector<std::string> families;
};

}  // namespace rep
