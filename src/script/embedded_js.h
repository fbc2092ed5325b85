#pragma once

namespace rep::script {

// Built into the binary (src/script/embed_js.cmake), so nothing is read from disk at run
// time: sucrase bundled by esbuild from the npm packages pinned in src/script/js (an IIFE
// defining the global `sucrase` with one function, strip), and src/script/prelude.js.
extern const char* const kSucraseBundle;
extern const char* const kPrelude;

}  // namespace rep::script
