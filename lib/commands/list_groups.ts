/**
 * `fprof list --group`: the listing under the groups `fprof switch` recorded
 * for the generation.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { GenerationContents } from "../profile/generation.ts";
import { groupedText, groupPackages } from "../profile/groups.ts";
import { writeOut } from "../log/log.ts";
import type { Generation } from "../profile/profile.ts";
import { type ProfilePlace, withHost } from "../profile/place.ts";
import { loadRecords, recordOf } from "../profile/records.ts";
import { listJson, type ListOptions, listText } from "../term/list_doc.ts";

/** Prints `contents` grouped; with `--json`, each package gains `group`. */
export async function listGrouped(
  place: ProfilePlace,
  gen: Generation,
  contents: GenerationContents,
  opts: ListOptions,
  ctx: Context,
): Promise<void> {
  const record = recordOf(await loadRecords(place.recordsKey, ctx.env), gen);
  const groups = record?.groups ?? {};
  if (!record?.groups) {
    ctx.log.step(
      `generation ${gen.number} has no groups recorded (only 'fprof switch' of a lib.mkProfile ` +
        "profile with groups records them)",
    );
  }
  if (opts.json) {
    const doc = withHost(listJson(place.profile, gen, contents.manifest, contents.packages), place);
    doc.packages.forEach((p, i) => {
      const g = groups[contents.packages[i].storePaths[0] ?? ""];
      if (g !== undefined) Object.assign(p, { group: g });
    });
    await writeOut(JSON.stringify(doc, null, 2) + "\n");
    return;
  }
  await writeOut(
    groupedText(
      groupPackages(contents.packages, groups),
      (ps) => listText(ps, opts.long ?? false),
    ),
  );
}
