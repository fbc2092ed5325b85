#pragma once

#include "core/mutation.h"
#include "target/table_applier.h"

#include <memory>
#include <vector>

namespace rep {
class PgConn;

// Accumulates the mutations of one target transaction into segments, keeping source order
// between segments. A mutation joins the last segment when it has the same table, kind and
// column set; a key that is already in that segment replaces the earlier row (last write
// wins, as applying both in order would leave) instead of appearing twice in one statement.
// Anything else starts a new segment, so operations on different tables and of different
// kinds are applied in exactly the source order.
class BatchBuilder {
public:
    BatchBuilder(TableResolver& resolver, PgConn& conn) : resolver_(resolver), conn_(conn) {}

    // Throws rep::Error (fatal) for an unknown target table, schema drift or a row without
    // its primary key.
    void add(const Mutation& m);
    size_t rows() const { return rows_; }
    bool empty() const { return segments_.empty(); }
    std::vector<Segment>& segments() { return segments_; }
    void clear();

private:
    void append(const std::shared_ptr<const TableMapping>& mapping, MutationKind kind,
                std::vector<Datum> row);

    TableResolver& resolver_;
    PgConn& conn_;
    std::vector<Segment> segments_;
    size_t rows_ = 0;
};

}  // namespace rep
