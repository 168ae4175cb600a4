/**
 * One run of the overlap check in a fresh process, as a switch runs it once
 * with nothing compiled yet: `deno run -A bench/overlap_once.ts QUESTION
 * FILES ENV` reads the question (JSON, see `OverlapQuestion`), checks it
 * through the cache files FILES and ENV, and prints how many milliseconds
 * the check took, loading and reading the question left out.
 *
 * @module
 */

import { checkOverlapsCached, type OverlapQuestion } from "../lib/profile/provided.ts";
import { Logger } from "../lib/log/log.ts";

if (import.meta.main) {
  const [question, files, env] = Deno.args;
  const q: OverlapQuestion = JSON.parse(Deno.readTextFileSync(question));
  const start = performance.now();
  await checkOverlapsCached(q, { files, env, log: new Logger() });
  console.log((performance.now() - start).toFixed(1));
}
