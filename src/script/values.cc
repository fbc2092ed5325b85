#include "script/values.h"

#include "base/error.h"

#include <fmt/format.h>

#include <cstdint>

namespace rep::script {

std::optional<Datum> datum_of(const JsContext& js, JSValueRef v) {
    switch (JSValueGetType(js.ctx(), v)) {
        case kJSTypeUndefined:
            return Datum{};  // absent: the target keeps its value
        case kJSTypeNull:
            return Datum::null();
        case kJSTypeObject: {
            auto json = js.to_json(v);
            if (!json) {
                return std::nullopt;
            }
            return Datum::value(std::move(*json));
        }
        case kJSTypeSymbol:
            return std::nullopt;
        default:
            return Datum::value(js.to_string(v));
    }
}

void refuse_not_utf8(const std::string& where, size_t size) {
    throw fatal(fmt::format(
        "--userscript: the value of {} is not valid UTF-8 text{}, so the userscript's handlers "
        "cannot be given it; values must be UTF-8 text for a script to see them",
        where, size > INT32_MAX ? " (or is over 2 GiB)" : ""));
}

const char* kind_name(JSContextRef ctx, JSValueRef v) {
    switch (JSValueGetType(ctx, v)) {
        case kJSTypeUndefined:
            return "undefined";
        case kJSTypeNull:
            return "null";
        case kJSTypeBoolean:
            return "a boolean";
        case kJSTypeNumber:
            return "a number";
        case kJSTypeString:
            return "a string";
        default:
            return JSValueIsArray(ctx, v) ? "an array" : "an object";
    }
}

}  // namespace rep::script
