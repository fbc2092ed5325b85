#pragma once

#include "app/config.h"
#include "source/mysql/mylogical_source.h"
#include "source/oracle/oracle_source.h"
#include "source/postgres/pglogical_source.h"
#include "source/source.h"

#include <memory>
#include <variant>

namespace rep::app {

// The source settings of each replication command. The one place where app/ names a source:
// a new source is its folder under src/source/, an alternative here, an overload in
// source_factory.cc and its subcommand in cli/.
using SourceConfig =
    std::variant<pg::PglogicalConfig, mysql::MylogicalConfig, oracle::OracleConfig>;

// The source a command's settings describe. `config` must outlive it. Throws rep::Error.
std::unique_ptr<source::Source> make_source(const SourceConfig& config);

}  // namespace rep::app
