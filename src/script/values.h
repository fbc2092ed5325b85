#pragma once

#include "core/mutation.h"

#include "script/js_context.h"

#include <optional>

namespace rep::script {

// A value a handler returned, as the text the target parses (values cross as text, so
// numbers never lose precision on the way): a string as it is, a number or boolean by
// String(), an object or array as JSON, null as SQL NULL, undefined as absent (the column is
// not written). nullopt for a function or symbol, which has no text form.
std::optional<Datum> datum_of(const JsContext& js, JSValueRef v);

// How a handler's answer is described in errors: "a number", "an array", ...
const char* kind_name(JSContextRef ctx, JSValueRef v);

}  // namespace rep::script
