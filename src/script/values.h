#pragma once

#include "core/mutation.h"

#include "script/js_context.h"

#include <optional>
#include <string>

namespace rep::script {

// A value a handler returned, as the text the target parses (values cross as text, so
// numbers never lose precision on the way): a string as it is, a number or boolean by
// String(), an object or array as JSON, null as SQL NULL, undefined as absent (the column is
// not written). nullopt for a function or symbol, which has no text form.
std::optional<Datum> datum_of(const JsContext& js, JSValueRef v);

// A row's value (not absent) as a handler receives it: null, or a string of its whole text.
// (JSC's own UTF-8 entry point stops at a NUL and makes "" of text that is not UTF-8.) Text
// that is not UTF-8 stops replication, `where` naming whose value it is: "column \"c\" of
// target table t (row id=1)".
// (A template, so the callable costs nothing unless it is called: this runs for every value.)
template <typename Where>
JSValueRef handler_value(JsContext& js, const Datum& d, const Where& where);

// handler_value's error: the value of `where`, `size` bytes, is not UTF-8.
[[noreturn]] void refuse_not_utf8(const std::string& where, size_t size);

template <typename Where>
JSValueRef handler_value(JsContext& js, const Datum& d, const Where& where) {
    if (d.is_null()) {
        return js.null();
    }
    std::optional<JSValueRef> v = js.utf8_text(d.text);
    if (!v) {
        refuse_not_utf8(where(), d.text.size());
    }
    return *v;
}

// How a handler's answer is described in errors: "a number", "an array", ...
const char* kind_name(JSContextRef ctx, JSValueRef v);

}  // namespace rep::script
