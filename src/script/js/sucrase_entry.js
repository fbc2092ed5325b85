// The one function the replicator calls at load time: strip TypeScript types and turn ES
// module syntax into require() calls, keeping line numbers (sucrase keeps every line where
// it was), with the source map's mappings (a segment per token), so errors point at the
// user's .ts line and column (script/source_map.h).
import { transform } from "sucrase";

export function strip(source, filePath, typescript) {
  const out = transform(source, {
    transforms: typescript ? ["typescript", "imports"] : ["imports"],
    filePath,
    disableESTransforms: true,
    production: true,
    sourceMapOptions: { compiledFilename: filePath },
  });
  return { code: out.code, mappings: out.sourceMap ? out.sourceMap.mappings : "" };
}
