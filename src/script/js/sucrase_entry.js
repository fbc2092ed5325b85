// The one function the replicator calls at load time: strip TypeScript types and turn ES
// module syntax into require() calls, keeping line numbers (sucrase keeps every line where
// it was), so errors point at the user's .ts line.
import { transform } from "sucrase";

export function strip(source, filePath, typescript) {
  return transform(source, {
    transforms: typescript ? ["typescript", "imports"] : ["imports"],
    filePath,
    disableESTransforms: true,
    production: true,
  }).code;
}
