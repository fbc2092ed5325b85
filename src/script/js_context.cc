#include "script/js_context.h"

#include "base/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <unicode/ustring.h>

// JavaScriptCore's execution time limit (JSContextRefPrivate.h, which WebKitGTK does not
// install): exported by libjavascriptcoregtk with this signature since WebKit 2013. When the
// limit passes, the callback decides; returning true ends the running script with an
// uncatchable termination exception.
extern "C" {
// The engine's heap statistics (JSBasePrivate.h, not installed either): an object with
// heapSize, heapCapacity, extraMemorySize, objectCount, ...
JS_EXPORT JSObjectRef JSGetMemoryUsageStatistics(JSContextRef ctx);
typedef bool (*JSShouldTerminateCallback)(JSContextRef ctx, void* context);
JS_EXPORT void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit,
                                                   JSShouldTerminateCallback callback,
                                                   void* context);
JS_EXPORT void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group);
}

namespace rep::script {
namespace {

// The private data of a native function object: the std::function to run.
struct NativeData {
    JsContext* owner;
    JsContext::Native fn;
};

JSValueRef call_native(JSContextRef ctx, JSObjectRef function, JSObjectRef /*self*/, size_t argc,
                       const JSValueRef argv[], JSValueRef* exception) {
    auto* data = static_cast<NativeData*>(JSObjectGetPrivate(function));
    try {
        return data->fn(*data->owner, std::vector<JSValueRef>(argv, argv + argc));
    } catch (const std::exception& e) {
        data->owner->note_native_error(e.what());
        JsString message(e.what());
        JSValueRef arg = JSValueMakeString(ctx, message.get());
        *exception = JSObjectMakeError(ctx, 1, &arg, nullptr);
        return JSValueMakeUndefined(ctx);
    }
}

void finalize_native(JSObjectRef object) {
    delete static_cast<NativeData*>(JSObjectGetPrivate(object));
}

// The engine's watchdog calls this every period (set_limits) a call runs; returning
// false lets it go on (and the watchdog calls again after another period).
bool watch(JSContextRef ctx, void* context) {
    return static_cast<JsContext*>(context)->should_stop(ctx);
}

constexpr std::chrono::milliseconds kWatchPeriod{100};

}  // namespace

std::string JsContext::stop_message() const {
    if (stopped_ == Stop::kMemory) {
        return fmt::format(
            "stopped after the engine's heap grew past {} MiB, the memory limit of one engine",
            memory_limit_ >> 20);
    }
    return fmt::format("stopped after running for longer than {} ms, the limit for one call",
                       time_limit_.count());
}

std::string to_std_string(JSStringRef s, bool lossy) {
    size_t max = JSStringGetMaximumUTF8CStringSize(s);
    std::string out(max, '\0');
    size_t n = JSStringGetUTF8CString(s, out.data(), max);  // counts the terminating NUL
    out.resize(n > 0 ? n - 1 : 0);
    // The conversion stops, without saying so, at half of a character (an unpaired UTF-16
    // surrogate), which has no UTF-8 form: count the UTF-16 units the output stands for (one
    // per character, two for one of four bytes) against the string's.
    size_t units = 0;
    for (char c : out) {
        auto b = static_cast<unsigned char>(c);
        units += (b & 0xC0) == 0x80 ? 0 : b >= 0xF0 ? 2 : 1;
    }
    if (units != JSStringGetLength(s) && lossy) {
        const auto* chars = reinterpret_cast<const UChar*>(JSStringGetCharactersPtr(s));
        auto length = static_cast<int32_t>(JSStringGetLength(s));
        out.assign(static_cast<size_t>(length) * 3, '\0');  // at most 3 bytes per unit
        int32_t written = 0;
        UErrorCode status = U_ZERO_ERROR;
        u_strToUTF8WithSub(out.data(), static_cast<int32_t>(out.size()), &written, chars, length,
                           0xFFFD, nullptr, &status);
        out.resize(U_SUCCESS(status) ? static_cast<size_t>(written) : 0);
        return out;
    }
    if (units != JSStringGetLength(s)) {
        throw fatal(
            "the userscript handed back a string holding half of a character (an unpaired "
            "UTF-16 surrogate, as cutting a string inside an emoji leaves), which has no UTF-8 "
            "form and cannot be written; cut strings by characters, e.g. "
            "Array.from(s).slice(0, n).join(\"\")");
    }
    return out;
}

JsContext::JsContext()
    : group_(JSContextGroupCreate()), ctx_(JSGlobalContextCreateInGroup(group_, nullptr)) {
    JSClassDefinition def = kJSClassDefinitionEmpty;
    def.className = "NativeFunction";
    def.callAsFunction = call_native;
    def.finalize = finalize_native;
    native_class_ = JSClassCreate(&def);
    // Taken before any script runs, so a script that replaces Object.defineProperty does not
    // see the rows set_field makes.
    define_ = as_object(evaluate(
        "((define) => (o, k, v) => { define(o, k, {__proto__: null, value: v, writable: true, "
        "enumerable: true, configurable: true}); })(Object.defineProperty)",
        std::string(kInternalUrl) + "define", "defining a property"));
    JSValueProtect(ctx_, define_);
}

JsContext::~JsContext() {
    JSValueUnprotect(ctx_, define_);
    JSGlobalContextRelease(ctx_);
    JSClassRelease(native_class_);
    JSContextGroupRelease(group_);
}

JSValueRef JsContext::evaluate(const std::string& source, const std::string& url,
                               const std::string& what) {
    JsString src(source);
    JsString name(url);
    JSValueRef exception = nullptr;
    native_error_.clear();
    Entry entry(*this);
    JSValueRef v = JSEvaluateScript(ctx_, src.get(), nullptr, name.get(), 1, &exception);
    if (exception != nullptr) {
        throw fatal(what + ": " + error_from(exception).describe());
    }
    return v;
}

JSObjectRef JsContext::function(const std::string& /*name*/, Native fn) {
    return JSObjectMake(ctx_, native_class_, new NativeData{this, std::move(fn)});
}

std::optional<JSValueRef> JsContext::call(JSObjectRef fn, const std::vector<JSValueRef>& args,
                                          JsError* error, JSObjectRef self) {
    JSValueRef exception = nullptr;
    native_error_.clear();
    Entry entry(*this);
    JSValueRef v = JSObjectCallAsFunction(ctx_, fn, self, args.size(), args.data(), &exception);
    if (exception != nullptr) {
        if (error != nullptr) {
            *error = error_from(exception);
        }
        return std::nullopt;
    }
    return v;
}

void JsContext::set_limits(std::chrono::milliseconds time, size_t memory_bytes) {
    time_limit_ = time;
    memory_limit_ = memory_bytes;
    if (time.count() > 0 || memory_bytes > 0) {
        // A quarter of the limit, so that a step (limit_per_step) overruns it by that at most.
        auto period = time.count() > 0
                          ? std::clamp(time / 4, std::chrono::milliseconds(1), kWatchPeriod)
                          : kWatchPeriod;
        JSContextGroupSetExecutionTimeLimit(group_, static_cast<double>(period.count()) / 1000.0,
                                            watch, this);
    } else {
        JSContextGroupClearExecutionTimeLimit(group_);
    }
}

bool JsContext::should_stop(JSContextRef ctx) {
    bool stop = over_limit(ctx);
    if (!stop) {
        // This engine's watchdog does not come back by itself once its callback said go on:
        // arm it again (allowed from the callback) for the next period.
        set_limits(time_limit_, memory_limit_);
    }
    return stop;
}

bool JsContext::over_limit(JSContextRef ctx) {
    auto now = std::chrono::steady_clock::now();
    auto since = entered_;
    if (step_holder_ != nullptr) {
        // A plain data property: reading it runs no script.
        double step = JSValueToNumber(
            ctx, JSObjectGetProperty(ctx, step_holder_, step_key_, nullptr), nullptr);
        if (!last_step_ || *last_step_ != step) {
            last_step_ = step;
            step_since_ = now;  // the step began in the last period; it gets the whole limit
        }
        since = step_since_;
    }
    if (time_limit_.count() > 0 && now - since >= time_limit_) {
        stopped_ = Stop::kTime;
        terminated_ = true;
        return true;
    }
    if (memory_limit_ > 0 && heap_bytes(ctx) > memory_limit_) {
        stopped_ = Stop::kMemory;
        terminated_ = true;
        return true;
    }
    return false;
}

size_t JsContext::heap_bytes(JSContextRef ctx) {
    JSObjectRef stats = JSGetMemoryUsageStatistics(ctx);
    if (stats == nullptr) {
        return 0;
    }
    JsString key("heapSize");
    double size =
        JSValueToNumber(ctx, JSObjectGetProperty(ctx, stats, key.get(), nullptr), nullptr);
    return size > 0 ? static_cast<size_t>(size) : 0;
}

JSValueRef JsContext::string(const std::string& s) const {
    JsString str(s);
    return JSValueMakeString(ctx_, str.get());
}

std::optional<JSValueRef> JsContext::utf8_text(std::string_view s) {
    if (s.size() > static_cast<size_t>(INT32_MAX)) {
        return std::nullopt;
    }
    // JSC's own UTF-8 entry point stops at a NUL and converts byte by byte. Here the ASCII
    // start (for most text, all of it) is widened in a loop the compiler vectorises, and ICU
    // converts the rest. UTF-16 never has more units than UTF-8 has bytes.
    utf16_.resize(s.size());
    const auto* in = reinterpret_cast<const unsigned char*>(s.data());
    char16_t* out = utf16_.data();
    size_t ascii = 0;
    constexpr size_t kBlock = 32;
    while (ascii + kBlock <= s.size()) {
        unsigned char high = 0;
        for (size_t i = 0; i < kBlock; ++i) {
            high |= in[ascii + i];
            out[ascii + i] = in[ascii + i];
        }
        if (high >= 0x80) {
            break;  // this block goes to ICU again, from its start
        }
        ascii += kBlock;
    }
    int32_t length = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8(out + ascii, static_cast<int32_t>(s.size() - ascii), &length, s.data() + ascii,
                  static_cast<int32_t>(s.size() - ascii), &status);
    if (U_FAILURE(status)) {
        return std::nullopt;
    }
    JSStringRef str = JSStringCreateWithCharacters(reinterpret_cast<const JSChar*>(out),
                                                   ascii + static_cast<size_t>(length));
    JSValueRef v = JSValueMakeString(ctx_, str);
    JSStringRelease(str);
    return v;
}

bool JsContext::is_utf8(std::string_view s) {
    if (s.size() > static_cast<size_t>(INT32_MAX)) {
        return false;
    }
    // Pre-flighting (no room to write) reports an ill-formed sequence as such, and anything
    // convertible as a lack of room.
    int32_t length = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8(nullptr, 0, &length, s.data(), static_cast<int32_t>(s.size()), &status);
    return status == U_BUFFER_OVERFLOW_ERROR || status == U_STRING_NOT_TERMINATED_WARNING ||
           U_SUCCESS(status);
}

namespace {

std::string string_of(JSContextRef ctx, JSValueRef v, bool lossy) {
    std::unique_ptr<OpaqueJSString, void (*)(JSStringRef)> s(JSValueToStringCopy(ctx, v, nullptr),
                                                             JSStringRelease);
    return s == nullptr ? std::string() : to_std_string(s.get(), lossy);
}

}  // namespace

std::string JsContext::to_string(JSValueRef v) const {
    return string_of(ctx_, v, false);
}

std::string JsContext::to_text(JSValueRef v) const {
    return string_of(ctx_, v, true);
}

std::optional<std::string> JsContext::to_json(JSValueRef v) const {
    JSStringRef s = JSValueCreateJSONString(ctx_, v, 0, nullptr);
    if (s == nullptr) {
        return std::nullopt;
    }
    std::string out = to_std_string(s);
    JSStringRelease(s);
    return out;
}

bool JsContext::is_function(JSValueRef v) const {
    return JSValueIsObject(ctx_, v) && JSObjectIsFunction(ctx_, as_object(v));
}

JSObjectRef JsContext::as_object(JSValueRef v) const {
    return JSValueToObject(ctx_, v, nullptr);
}

JSValueRef JsContext::get(JSObjectRef obj, const std::string& name) const {
    JsString key(name);
    return JSObjectGetProperty(ctx_, obj, key.get(), nullptr);
}

JSValueRef JsContext::get(JSObjectRef obj, const JsString& name) const {
    return JSObjectGetProperty(ctx_, obj, name.get(), nullptr);
}

size_t JsContext::length(JSObjectRef array) const {
    if (!JSValueIsArray(ctx_, array)) {
        return 0;
    }
    double n = number(get(array, length_key_));
    return n > 0 ? static_cast<size_t>(n) : 0;
}

bool JsContext::int32s(JSValueRef v, std::vector<int32_t>& out) const {
    if (JSValueGetTypedArrayType(ctx_, v, nullptr) != kJSTypedArrayTypeInt32Array) {
        return false;
    }
    // A typed array is an object: the cast is what JSValueToObject would return.
    auto* array = const_cast<JSObjectRef>(v);
    size_t n = JSObjectGetTypedArrayLength(ctx_, array, nullptr);
    // The start of the array's buffer (so `v` must start there: a whole array, or a
    // subarray from 0); good only until the next call into the engine, so copied at once.
    const auto* first =
        static_cast<const int32_t*>(JSObjectGetTypedArrayBytesPtr(ctx_, array, nullptr));
    if (first == nullptr && n > 0) {
        return false;
    }
    out.assign(first, first + n);
    return true;
}

void JsContext::set_proto_named(JSObjectRef obj, JSValueRef value) {
    JSValueRef args[] = {obj, JSValueMakeString(ctx_, proto_key_.get()), value};
    JSValueRef exception = nullptr;
    Entry entry(*this);
    JSObjectCallAsFunction(ctx_, define_, nullptr, 3, args, &exception);
    if (exception != nullptr) {
        // Only a stop by a limit can get here (the descriptor inherits nothing).
        throw fatal("setting the row's column \"__proto__\" failed: " +
                    error_from(exception).describe());
    }
}

void JsContext::set(JSObjectRef obj, const std::string& name, JSValueRef value) const {
    JsString key(name);
    JSObjectSetProperty(ctx_, obj, key.get(), value, kJSPropertyAttributeNone, nullptr);
}

std::vector<std::string> JsContext::keys(JSObjectRef obj) const {
    // Released however the loop ends (a name's text may fail to convert and throw).
    std::unique_ptr<OpaqueJSPropertyNameArray, void (*)(JSPropertyNameArrayRef)> names(
        JSObjectCopyPropertyNames(ctx_, obj), JSPropertyNameArrayRelease);
    size_t n = JSPropertyNameArrayGetCount(names.get());
    std::vector<std::string> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        out.push_back(to_std_string(JSPropertyNameArrayGetNameAtIndex(names.get(), i)));
    }
    return out;
}

JsError JsContext::error_from(JSValueRef exception) const {
    JsError e;
    e.message = to_text(exception);
    if (!native_error_.empty() && e.message == "Error: " + native_error_) {
        e.message = native_error_;  // one of ours, thrown by a native function: as it was
    }
    if (e.message == "JavaScript execution terminated.") {
        e.message = stop_message();
    }
    if (!JSValueIsObject(ctx_, exception)) {
        return e;
    }
    // The innermost frame of the user's code: "name@file:line:column" lines, innermost first;
    // frames of the replicator's own code and native code are skipped, so an error thrown by
    // the API points at the script line that called it.
    JSValueRef stack = get(as_object(exception), "stack");
    if (JSValueIsUndefined(ctx_, stack)) {
        return e;
    }
    std::string text = to_text(stack);
    size_t start = 0;
    while (start < text.size()) {
        size_t end = std::min(text.find('\n', start), text.size());
        std::string frame = text.substr(start, end - start);
        start = end + 1;
        size_t at = frame.find('@');
        std::string where = at == std::string::npos ? frame : frame.substr(at + 1);
        if (where.empty() || where == "[native code]" || where.rfind(kInternalUrl, 0) == 0) {
            continue;
        }
        e.location = locator_ ? locator_(where) : where;
        break;
    }
    return e;
}

}  // namespace rep::script
