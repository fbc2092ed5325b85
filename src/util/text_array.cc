#include "util/text_array.h"

namespace rep {

void TextArrayBuilder::add(std::string_view value) {
    if (count_++ > 0) {
        buf_ += ',';
    }
    buf_ += '"';
    for (char c : value) {
        if (c == '"' || c == '\\') {
            buf_ += '\\';
        }
        buf_ += c;
    }
    buf_ += '"';
}

void TextArrayBuilder::add_null() {
    if (count_++ > 0) {
        buf_ += ',';
    }
    buf_ += "NULL";
}

std::string TextArrayBuilder::finish() {
    buf_.push_back('}');
    std::string out;
    out.swap(buf_);
    buf_.push_back('{');
    count_ = 0;
    return out;
}

}  // namespace rep
