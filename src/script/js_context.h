#pragma once

#include <JavaScriptCore/JavaScript.h>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rep::script {

// A JavaScript exception caught at the C boundary, with where it was thrown when the engine
// knows (the script's own file and line: loaded code keeps its line numbers).
struct JsError {
    std::string message;   // "TypeError: x is not a function"
    std::string location;  // "table_filter.ts:12:9", or "" when unknown
    std::string describe() const { return location.empty() ? message : location + ": " + message; }
};

// A JSStringRef, released with its owner.
class JsString {
public:
    explicit JsString(const std::string& s) : ref_(JSStringCreateWithUTF8CString(s.c_str())) {}
    ~JsString() { JSStringRelease(ref_); }
    JsString(const JsString&) = delete;
    JsString& operator=(const JsString&) = delete;
    JSStringRef get() const { return ref_; }

private:
    JSStringRef ref_;
};

// One JavaScriptCore global context in a context group of its own (so one engine per thread
// runs without waiting for another), through JSC's stable C API. Its global object holds only
// the ECMAScript built-ins and what the owner installs: no file system, network, timers or
// process access exist in it. Not thread-safe: one thread at a time.
class JsContext {
public:
    JsContext();
    ~JsContext();
    JsContext(const JsContext&) = delete;
    JsContext& operator=(const JsContext&) = delete;

    JSGlobalContextRef ctx() const { return ctx_; }
    JSObjectRef global() const { return JSContextGetGlobalObject(ctx_); }

    // Evaluates `source` as a script named `url` (for error locations). Throws rep::Error
    // (fatal) with the JsError's text on an exception, prefixed by `what`.
    JSValueRef evaluate(const std::string& source, const std::string& url, const std::string& what);

    // A native function callable from JavaScript. It returns a value, or throws: a
    // rep::Error or std::exception becomes a JavaScript Error with its message.
    using Native = std::function<JSValueRef(JsContext&, const std::vector<JSValueRef>& args)>;
    JSObjectRef function(const std::string& name, Native fn);

    // Calls `fn` with `args`; on an exception returns nullopt and fills `error`.
    std::optional<JSValueRef> call(JSObjectRef fn, const std::vector<JSValueRef>& args,
                                   JsError* error, JSObjectRef self = nullptr);

    // Longest a single evaluate() or call() from C++ may run, and how large the engine's heap
    // may grow while one runs, before the engine stops it (0: no limit). The engine's
    // watchdog checks both every quarter of the time limit (at most every 100 ms) a call
    // runs, so the heap can overshoot by what a script allocates in that time. A stopped
    // call's error says which limit.
    void set_limits(std::chrono::milliseconds time, size_t memory_bytes);
    // Whether a limit stopped something since the last call of this (the engine's
    // watchdog says so; a promise reaction it stopped leaves no exception to see).
    bool take_terminated() { return terminated_.exchange(false); }
    // Time the running call spent waiting for something else (a native function waiting
    // for the target): it does not count against the time limit.
    void exclude_from_limit(std::chrono::steady_clock::duration waited) {
        entered_ += waited;
        step_since_ += waited;
    }
    // While set, the time limit applies to each step of a call rather than to the whole call:
    // the running code sets property `key` of `holder` (a plain data property) to a new
    // number as each step begins (the script stage: the row of its batch), and the watchdog
    // counts the limit from where it first saw a value other than the one before (in a new
    // call, from its first look). A step is thus stopped after running for between the limit
    // and the limit plus the watchdog's period (a quarter of the limit, at most 100 ms).
    // nullptr: the whole call. `holder` must stay reachable (protected) while set.
    void limit_per_step(JSObjectRef holder, JSStringRef key = nullptr) {
        step_holder_ = holder;
        step_key_ = key;
    }
    // Why the last stop happened, as an error message.
    std::string stop_message() const;
    // The watchdog's question (js_context.cc), on the engine's thread.
    bool should_stop(JSContextRef ctx);

    // --- values ------------------------------------------------------------------------
    JSValueRef string(const std::string& s) const;
    // A string from UTF-8 text of any content (NULs included), converted to UTF-16 here;
    // nullopt if `s` is not valid UTF-8.
    std::optional<JSValueRef> utf8_text(std::string_view s);
    static bool is_utf8(std::string_view s);
    JSValueRef null() const { return JSValueMakeNull(ctx_); }
    JSValueRef undefined() const { return JSValueMakeUndefined(ctx_); }
    std::string to_string(JSValueRef v) const;  // String(v); throws for half a character
    // String(v) for logs and messages: half of a character (an unpaired surrogate) as U+FFFD.
    std::string to_text(JSValueRef v) const;
    // JSON.stringify(v), or nullopt when it has no JSON form (undefined, a function).
    std::optional<std::string> to_json(JSValueRef v) const;
    JSObjectRef object() const { return JSObjectMake(ctx_, nullptr, nullptr); }
    bool is_array(JSValueRef v) const { return JSValueIsArray(ctx_, v); }
    bool is_object(JSValueRef v) const { return JSValueIsObject(ctx_, v); }
    bool is_function(JSValueRef v) const;
    JSObjectRef as_object(JSValueRef v) const;
    JSValueRef get(JSObjectRef obj, const std::string& name) const;
    JSValueRef get(JSObjectRef obj, const JsString& name) const;
    JSValueRef at(JSObjectRef array, unsigned index) const {
        return JSObjectGetPropertyAtIndex(ctx_, array, index, nullptr);
    }
    // Number(v); NaN for what has no number.
    double number(JSValueRef v) const { return JSValueToNumber(ctx_, v, nullptr); }
    // An array's length (0 for what is not an array).
    size_t length(JSObjectRef array) const;
    // Copies the elements of an Int32Array that starts at the beginning of its buffer into
    // `out`; false if `v` is not an Int32Array.
    bool int32s(JSValueRef v, std::vector<int32_t>& out) const;
    void set(JSObjectRef obj, const std::string& name, JSValueRef value) const;
    // Sets `obj[name] = value` as an own, enumerable data property. A property named
    // "__proto__" (`proto_name`: known from the name, once per layout) is defined: a plain set
    // takes it for the object's prototype and drops a string.
    void set_field(JSObjectRef obj, JSStringRef name, JSValueRef value, bool proto_name) {
        if (proto_name) {
            set_proto_named(obj, value);
        } else {
            JSObjectSetProperty(ctx_, obj, name, value, kJSPropertyAttributeNone, nullptr);
        }
    }
    void set_proto_named(JSObjectRef obj, JSValueRef value);
    std::vector<std::string> keys(JSObjectRef obj) const;  // own enumerable, in order
    JsError error_from(JSValueRef exception) const;

    // Code of the replicator's own is evaluated under URLs starting with this: error
    // locations skip its frames.
    static constexpr const char* kInternalUrl = "replicator:";
    // A native function threw this (set by the function wrapper, read by error_from).
    void note_native_error(std::string message) { native_error_ = std::move(message); }
    // Maps the "file:line:column" of an error's innermost user frame (error_from) to where the
    // user sees it (the source maps of type-stripped code).
    void set_locator(std::function<std::string(const std::string&)> locator) {
        locator_ = std::move(locator);
    }

private:
    // Marks the outermost entry into the engine, from which the time limit counts.
    class Entry {
    public:
        explicit Entry(JsContext& js) : js_(js) {
            if (js_.depth_++ == 0) {
                js_.entered_ = js_.step_since_ = std::chrono::steady_clock::now();
                js_.last_step_.reset();
            }
        }
        ~Entry() { --js_.depth_; }
        Entry(const Entry&) = delete;
        Entry& operator=(const Entry&) = delete;

    private:
        JsContext& js_;
    };
    enum class Stop : uint8_t { kTime, kMemory };
    static size_t heap_bytes(JSContextRef ctx);
    bool over_limit(JSContextRef ctx);

    std::string native_error_;
    std::function<std::string(const std::string&)> locator_;
    std::atomic<bool> terminated_{false};
    Stop stopped_ = Stop::kTime;
    int depth_ = 0;
    std::chrono::steady_clock::time_point entered_;
    JSObjectRef step_holder_ = nullptr;  // limit_per_step's
    JSStringRef step_key_ = nullptr;
    std::optional<double> last_step_;                   // the step the watchdog saw last
    std::chrono::steady_clock::time_point step_since_;  // when it saw it change
    size_t memory_limit_ = 0;
    std::chrono::milliseconds time_limit_{0};
    JSContextGroupRef group_;
    JSGlobalContextRef ctx_;
    JSClassRef native_class_;
    JsString length_key_{"length"};
    JsString proto_key_{"__proto__"};
    JSObjectRef define_ = nullptr;  // defines an own data property (set_field)
    std::u16string utf16_;          // utf8_text's, reused
};

// A JavaScript array filled element by element, for values made one after another in C++.
// The engine's collector finds values only on the stack, in registers and in what they
// reach, never in a std::vector: a value kept in one while the next is made (which may
// collect garbage) could be freed, and its address reused by a later value. Each value put
// here is reachable from the array as soon as it is made, and the array is protected while
// the builder lives.
class JsArrayBuilder {
public:
    explicit JsArrayBuilder(JSContextRef ctx)
        : ctx_(ctx), array_(JSObjectMakeArray(ctx, 0, nullptr, nullptr)) {
        JSValueProtect(ctx_, array_);
    }
    ~JsArrayBuilder() { JSValueUnprotect(ctx_, array_); }
    JsArrayBuilder(const JsArrayBuilder&) = delete;
    JsArrayBuilder& operator=(const JsArrayBuilder&) = delete;

    void push_back(JSValueRef v) { JSObjectSetPropertyAtIndex(ctx_, array_, size_++, v, nullptr); }
    JSObjectRef get() const { return array_; }
    unsigned size() const { return size_; }

private:
    JSContextRef ctx_;
    JSObjectRef array_;
    unsigned size_ = 0;
};

// The string as UTF-8. Half of a character (an unpaired UTF-16 surrogate), which has no UTF-8
// form, throws, or with `lossy` becomes U+FFFD (for logs and messages).
std::string to_std_string(JSStringRef s, bool lossy = false);

}  // namespace rep::script
