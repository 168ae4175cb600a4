/**
 * `node:path` (POSIX) from fprof's own path module.
 *
 * @module
 */

import { basename, dirname, extname, join, normalize, resolve } from "../path.ts";

export { basename, dirname, extname, join, normalize, resolve };
export const sep = "/";
export default { basename, dirname, extname, join, normalize, resolve, sep };
