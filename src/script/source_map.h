#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rep::script {

// Where a position in the code the type stripper produced came from in the user's file: the
// "mappings" of the source map sucrase makes (version 3: ';' between generated lines, ','
// between segments, each segment base64 VLQ numbers, every one a difference from the one
// before: generated column (from 0 on each line), source index, source line, source column).
// Sucrase keeps every line where it was and gives each token a segment, so a column inside
// a line moves by what was removed before it on that line (types, `export`). Pure.
class SourceMap {
public:
    // An empty or malformed `mappings` maps nothing (positions stay as they are).
    explicit SourceMap(const std::string& mappings = {});
    // A 1-based line and column of the generated code -> the same in the user's file.
    std::pair<int, int> original(int line, int column) const;

private:
    struct Segment {
        int generated_column = 0;  // all 0-based
        int line = 0;
        int column = 0;
    };
    std::vector<std::vector<Segment>> lines_;
};

// The user's files' maps by the path their code runs under.
using SourceMaps = std::map<std::string, std::shared_ptr<const SourceMap>>;

// "path:line:column" of generated code -> the user's position, through the map of `path`;
// as given when there is none. `first_line_shift`: characters the engine saw before the code
// on its first line (the module wrapper).
std::string original_location(const std::string& where, const SourceMaps& maps,
                              int first_line_shift);

}  // namespace rep::script
