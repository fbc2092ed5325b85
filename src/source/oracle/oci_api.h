#pragma once

// The part of Oracle's C client interface (OCI) the replicator uses, declared here so that
// the project builds and runs its tests with no Oracle software installed: the library
// (Instant Client's libclntsh) is loaded at run time with dlopen. Types, constants and
// argument orders follow Oracle's OCI documentation (reference §4.2-4.3); the set is the one
// ODPI-C and the drivers built on it rely on.

#include <cstdint>
#include <string>
#include <vector>

namespace rep::oracle::oci {

using sword = int32_t;
using ub1 = uint8_t;
using ub2 = uint16_t;
using sb2 = int16_t;
using ub4 = uint32_t;
using sb4 = int32_t;
using ub8 = uint64_t;
using sb8 = int64_t;
using OraText = unsigned char;

// Return codes.
inline constexpr sword kSuccess = 0;
inline constexpr sword kSuccessWithInfo = 1;
inline constexpr sword kNeedData = 99;
inline constexpr sword kNoData = 100;
inline constexpr sword kError = -1;
inline constexpr sword kInvalidHandle = -2;
inline constexpr sword kStillExecuting = -3123;

// Modes and flags.
inline constexpr ub4 kDefault = 0;
inline constexpr ub4 kThreaded = 0x1;
inline constexpr ub4 kStmtCache = 0x40;
inline constexpr ub4 kNtvSyntax = 1;
inline constexpr ub2 kFetchNext = 0x2;
inline constexpr ub4 kCommitOnSuccess = 0x20;
inline constexpr ub4 kCredRdbms = 1;

// Handle types.
inline constexpr ub4 kHtypeEnv = 1;
inline constexpr ub4 kHtypeError = 2;
inline constexpr ub4 kHtypeSvcCtx = 3;
inline constexpr ub4 kHtypeStmt = 4;
inline constexpr ub4 kHtypeServer = 8;
inline constexpr ub4 kHtypeSession = 9;

// Attributes.
inline constexpr ub4 kAttrServer = 6;
inline constexpr ub4 kAttrSession = 7;
inline constexpr ub4 kAttrPrefetchRows = 11;
inline constexpr ub4 kAttrUsername = 22;
inline constexpr ub4 kAttrPassword = 23;
inline constexpr ub4 kAttrRowsFetched = 197;
inline constexpr ub4 kAttrModule = 366;
inline constexpr ub4 kAttrDriverName = 424;
inline constexpr ub4 kAttrCallTimeout = 531;

// External data types.
inline constexpr ub2 kSqltChr = 1;
inline constexpr ub2 kSqltStr = 5;

// AL32UTF8: text is UTF-8 whatever NLS_LANG says.
inline constexpr ub2 kCharsetAl32Utf8 = 873;

// The functions, with the argument lists of Oracle's documentation.
struct Api {
    sword (*OCIEnvNlsCreate)(void** envhpp, ub4 mode, void* ctxp, void* malocfp, void* ralocfp,
                             void* mfreefp, size_t xtramemsz, void** usrmempp, ub2 charset,
                             ub2 ncharset);
    sword (*OCIHandleAlloc)(const void* parenth, void** hndlpp, ub4 type, size_t xtramem_sz,
                            void** usrmempp);
    sword (*OCIHandleFree)(void* hndlp, ub4 type);
    sword (*OCIServerAttach)(void* srvhp, void* errhp, const OraText* dblink, sb4 dblink_len,
                             ub4 mode);
    sword (*OCIServerDetach)(void* srvhp, void* errhp, ub4 mode);
    sword (*OCIAttrSet)(void* trgthndlp, ub4 trghndltyp, void* attributep, ub4 size, ub4 attrtype,
                        void* errhp);
    sword (*OCIAttrGet)(const void* trgthndlp, ub4 trghndltyp, void* attributep, ub4* sizep,
                        ub4 attrtype, void* errhp);
    sword (*OCISessionBegin)(void* svchp, void* errhp, void* usrhp, ub4 credt, ub4 mode);
    sword (*OCISessionEnd)(void* svchp, void* errhp, void* usrhp, ub4 mode);
    sword (*OCIStmtPrepare2)(void* svchp, void** stmtp, void* errhp, const OraText* stmt,
                             ub4 stmt_len, const OraText* key, ub4 keylen, ub4 language, ub4 mode);
    sword (*OCIStmtRelease)(void* stmtp, void* errhp, const OraText* key, ub4 keylen, ub4 mode);
    sword (*OCIBindByPos2)(void* stmtp, void** bindp, void* errhp, ub4 position, void* valuep,
                           sb8 value_sz, ub2 dty, void* indp, ub4* alenp, ub2* rcodep,
                           ub4 maxarr_len, ub4* curelep, ub4 mode);
    sword (*OCIDefineByPos2)(void* stmtp, void** defnp, void* errhp, ub4 position, void* valuep,
                             sb8 value_sz, ub2 dty, void* indp, ub4* rlenp, ub2* rcodep, ub4 mode);
    sword (*OCIStmtExecute)(void* svchp, void* stmtp, void* errhp, ub4 iters, ub4 rowoff,
                            const void* snap_in, void* snap_out, ub4 mode);
    sword (*OCIStmtFetch2)(void* stmtp, void* errhp, ub4 nrows, ub2 orientation, sb4 fetchOffset,
                           ub4 mode);
    sword (*OCIErrorGet)(void* hndlp, ub4 recordno, OraText* sqlstate, sb4* errcodep, OraText* bufp,
                         ub4 bufsiz, ub4 type);
    sword (*OCITransCommit)(void* svchp, void* errhp, ub4 flags);
    sword (*OCITransRollback)(void* svchp, void* errhp, ub4 flags);
    sword (*OCIPing)(void* svchp, void* errhp, ub4 mode);
    sword (*OCIBreak)(void* hndlp, void* errhp);
    void (*OCIClientVersion)(sword* major, sword* minor, sword* update, sword* patch,
                             sword* port_update);
};

// Where to look for the client library, in order: `lib_dir` (--oracleClientLibDir), the
// ORACLE_CLIENT_LIB_DIR variable, the system's search path (LD_LIBRARY_PATH, the ld.so
// cache), $ORACLE_HOME/lib.
struct LoadOptions {
    std::string lib_dir;
};

// The file names tried in each place: libclntsh.so, then the versioned names Instant Client
// installs (23, 21, 19, 18 and 12).
std::vector<std::string> library_names();

// Loads libclntsh and resolves every function, without caching (load() caches). Throws as
// load() does.
Api open_library(const LoadOptions& options);

// Loads libclntsh once per process (the first call's options choose it; a failed attempt is
// not remembered) and resolves every function. Throws rep::Error (fatal,
// exit status 2) naming the places tried and what each said, or the missing symbol, with
// how to install Instant Client (and libaio1, which it needs on Debian).
const Api& load(const LoadOptions& options);

}  // namespace rep::oracle::oci
