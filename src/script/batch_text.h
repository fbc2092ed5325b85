#pragma once

#include <string>

namespace rep::script {

// Appends `s` as a JSON string to `out`: the userscript stage's batch text (script_stage.cc).
// Values are UTF-8 text (the sources render them so), which JSON carries as it is; only
// quotes, backslashes and control characters are escaped.
void append_json(std::string& out, const std::string& s);

}  // namespace rep::script
