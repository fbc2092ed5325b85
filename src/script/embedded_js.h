#pragma once

namespace rep::script {

// Built into the binary (src/script/embed_js.cmake), so nothing is read from disk at run
// time: sucrase bundled by esbuild from the npm packages pinned in src/script/js (an IIFE
// defining the global `sucrase` with one function, strip), src/script/prelude.js and the API's
// TypeScript declarations.
extern const char* const kSucraseBundle;
extern const char* const kPrelude;
// src/script/replicator@v2.d.ts, for `replicator userscript --api`.
extern const char* const kApiDeclarations;

}  // namespace rep::script
