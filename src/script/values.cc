#include "script/values.h"

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
