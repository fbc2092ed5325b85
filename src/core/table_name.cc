#include "core/table_name.h"

#include "base/error.h"

#include <cctype>
#include <vector>

namespace rep {

std::string quote_ident(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    out += '"';
    return out;
}

SchemaRef SchemaRef::parse(std::string_view text, std::string_view flag) {
    std::vector<std::string> parts;
    std::string cur;
    bool quoted = false;
    bool any = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cur += c;
            }
        } else if (c == '"') {
            quoted = true;
            any = true;
        } else if (c == '.') {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            any = true;
        }
    }
    parts.push_back(cur);
    bool empty_part = false;
    for (const auto& p : parts) {
        empty_part |= p.empty();
    }
    if (quoted || !any || parts.size() > 2 || empty_part) {
        throw fatal(std::string(flag) + " \"" + std::string(text) +
                    "\" is not a schema name; write it as database.schema (e.g. "
                    "defaultdb.public) or schema");
    }
    SchemaRef ref;
    ref.raw = std::string(text);
    if (parts.size() == 2) {
        ref.database = parts[0];
        ref.schema = parts[1];
    } else {
        ref.schema = parts[0];
    }
    return ref;
}

std::string TableName::sql(bool with_database) const {
    std::string out;
    if (with_database && !schema.database.empty()) {
        out += quote_ident(schema.database) + ".";
    }
    return out + quote_ident(schema.schema) + "." + quote_ident(table);
}

}  // namespace rep
