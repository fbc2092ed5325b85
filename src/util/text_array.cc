#include "util/text_array.h"

namespace rep::util {

void TextArrayBuilder::add(std::string_view value) {
    if (count_++ > 0) {
        out_ += ',';
    }
    out_ += '"';
    // Copy the runs between characters that need a backslash in one go: most values have none.
    size_t run = 0;
    for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '"' || value[i] == '\\') {
            out_.append(value.data() + run, i - run);
            out_ += '\\';
            run = i;
        }
    }
    out_.append(value.data() + run, value.size() - run);
    out_ += '"';
}

void TextArrayBuilder::add_null() {
    if (count_++ > 0) {
        out_ += ',';
    }
    out_ += "NULL";
}

}  // namespace rep::util
