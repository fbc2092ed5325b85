#pragma once

#include <string>

namespace rep::target {

// Short advice appended to a target error, keyed by SQLSTATE class, so that an operator
// reading the log knows what to do next.
std::string advice_for_sqlstate(const std::string& sqlstate);

}  // namespace rep::target
