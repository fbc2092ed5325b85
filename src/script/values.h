#pragma once

#include "core/mutation.h"

#include "script/js_context.h"

#include <functional>
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
JSValueRef handler_value(JsContext& js, const Datum& d, const std::function<std::string()>& where);

// How a handler's answer is described in errors: "a number", "an array", ...
const char* kind_name(JSContextRef ctx, JSValueRef v);

}  // namespace rep::script
