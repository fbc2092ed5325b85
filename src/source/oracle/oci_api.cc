#include "source/oracle/oci_api.h"

#include "base/error.h"

#include <fmt/format.h>

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <optional>

namespace rep::oracle::oci {
namespace {

// Opens the first library that loads: each name in `dir` (or through the system's search
// when `dir` is empty). `tried` collects what failed and why.
void* open_in(const std::string& dir, std::vector<std::string>& tried, std::string& path) {
    for (const std::string& name : library_names()) {
        path = dir.empty() ? name : fmt::format("{}/{}", dir, name);
        if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
            return handle;
        }
        const char* why = dlerror();  // NOLINT(concurrency-mt-unsafe): under load()'s lock
        tried.push_back(fmt::format("{}: {}", path, why != nullptr ? why : "not loadable"));
    }
    return nullptr;
}

template <typename F>
void resolve(void* handle, const char* name, F& fn, const std::string& library) {
    void* symbol = dlsym(handle, name);
    if (symbol == nullptr) {
        throw setup_error(fmt::format(
            "the Oracle client library {} has no function {}: it is too old or not Oracle's "
            "OCI library; install Oracle Instant Client 19 or later",
            library, name));
    }
    fn = reinterpret_cast<F>(symbol);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

}  // namespace

Api open_library(const LoadOptions& options) {
    std::vector<std::string> dirs;
    if (!options.lib_dir.empty()) {
        dirs.push_back(options.lib_dir);
    }
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, at start-up
    if (const char* env = std::getenv("ORACLE_CLIENT_LIB_DIR"); env != nullptr && *env != 0) {
        dirs.emplace_back(env);
    }
    dirs.emplace_back();  // the system's search path
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, at start-up
    if (const char* home = std::getenv("ORACLE_HOME"); home != nullptr && *home != 0) {
        dirs.push_back(std::string(home) + "/lib");
    }
    std::vector<std::string> tried;
    void* handle = nullptr;
    std::string path;
    for (const std::string& dir : dirs) {
        if ((handle = open_in(dir, tried, path)) != nullptr) {
            break;
        }
    }
    if (handle == nullptr) {
        std::string list;
        for (const std::string& t : tried) {
            list += "\n  " + t;
        }
        throw setup_error(fmt::format(
            "cannot load the Oracle client library (libclntsh) that replicator oraclelogminer "
            "needs. Install Oracle Instant Client (Basic or Basic Light) 19 or later and point "
            "--oracleClientLibDir (or ORACLE_CLIENT_LIB_DIR) at its directory; on Debian it "
            "also needs the libaio1 package. Tried:{}",
            list));
    }
    Api a{};
    resolve(handle, "OCIEnvNlsCreate", a.OCIEnvNlsCreate, path);
    resolve(handle, "OCIHandleAlloc", a.OCIHandleAlloc, path);
    resolve(handle, "OCIHandleFree", a.OCIHandleFree, path);
    resolve(handle, "OCIServerAttach", a.OCIServerAttach, path);
    resolve(handle, "OCIServerDetach", a.OCIServerDetach, path);
    resolve(handle, "OCIAttrSet", a.OCIAttrSet, path);
    resolve(handle, "OCIAttrGet", a.OCIAttrGet, path);
    resolve(handle, "OCISessionBegin", a.OCISessionBegin, path);
    resolve(handle, "OCISessionEnd", a.OCISessionEnd, path);
    resolve(handle, "OCIStmtPrepare2", a.OCIStmtPrepare2, path);
    resolve(handle, "OCIStmtRelease", a.OCIStmtRelease, path);
    resolve(handle, "OCIBindByPos2", a.OCIBindByPos2, path);
    resolve(handle, "OCIDefineByPos2", a.OCIDefineByPos2, path);
    resolve(handle, "OCIStmtExecute", a.OCIStmtExecute, path);
    resolve(handle, "OCIStmtFetch2", a.OCIStmtFetch2, path);
    resolve(handle, "OCIErrorGet", a.OCIErrorGet, path);
    resolve(handle, "OCITransCommit", a.OCITransCommit, path);
    resolve(handle, "OCITransRollback", a.OCITransRollback, path);
    resolve(handle, "OCIPing", a.OCIPing, path);
    resolve(handle, "OCIBreak", a.OCIBreak, path);
    resolve(handle, "OCIClientVersion", a.OCIClientVersion, path);
    sword major = 0;
    sword minor = 0;
    sword update = 0;
    sword patch = 0;
    sword port = 0;
    a.OCIClientVersion(&major, &minor, &update, &patch, &port);
    if (major < 19) {
        throw setup_error(
            fmt::format("the Oracle client library {} is version {}.{}; "
                        "replicator oraclelogminer needs 19 or later",
                        path, major, minor));
    }
    return a;
}

std::vector<std::string> library_names() {
    return {"libclntsh.so",      "libclntsh.so.23.1", "libclntsh.so.21.1",
            "libclntsh.so.19.1", "libclntsh.so.18.1", "libclntsh.so.12.1"};
}

const Api& load(const LoadOptions& options) {
    // One library per process: the first call's options choose it.
    static std::mutex mutex;
    static std::optional<Api> loaded;
    std::lock_guard lock(mutex);
    if (!loaded) {
        loaded = open_library(options);
    }
    return *loaded;
}

}  // namespace rep::oracle::oci
