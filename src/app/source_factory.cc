#include "app/source_factory.h"

namespace rep::app {

std::unique_ptr<source::Source> make_source(const SourceConfig& config) {
    struct Make {
        std::unique_ptr<source::Source> operator()(const pg::PglogicalConfig& c) const {
            return pg::make_pglogical_source(c);
        }
        std::unique_ptr<source::Source> operator()(const mysql::MylogicalConfig& c) const {
            return mysql::make_mylogical_source(c);
        }
        std::unique_ptr<source::Source> operator()(const oracle::OracleConfig& c) const {
            return oracle::make_oracle_source(c);
        }
    };
    return std::visit(Make{}, config);
}

}  // namespace rep::app
