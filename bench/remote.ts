/**
 * The benchmark's remote cases, against loopback hosts (namespaced sshd, as
 * the remote tests use; they need root):
 *
 * - `list --target-host` against `ssh HOST nix-env -q`, interleaved;
 * - a fleet switch of 1, 4 and 16 hosts: wall time of a changed switch of
 *   all of them, and the bytes each host's connection carried (counted by
 *   the hosts' relays).
 *
 * @module
 */

import { join } from "node:path";
import type { NixSandbox } from "../tests/helpers/sandbox.ts";
import { makeRemoteHosts, remoteHostsUnavailable } from "../tests/helpers/remote_host.ts";
import { writeFleetFlake } from "../tests/helpers/fixtures.ts";
import { type Interleave, measure, median, type Summary } from "./measure.ts";

/** One row of the fleet table. */
export interface FleetRow {
  hosts: number;
  jobs: number;
  /** Median wall time of a changed switch of every host. */
  medianMs: number;
  /** Median bytes one host's connection carried in such a switch (both directions). */
  bytesPerHost: number;
}

/** What the remote cases measured; `null` where hosts cannot run here. */
export interface RemoteResults {
  list: { fprof: Summary; ssh: Summary } | null;
  fleet: FleetRow[];
}

/** Runs the remote cases; `interleave` runs sides as the bench's other cases do. */
export async function remoteCases(
  sb: NixSandbox,
  how: {
    fprofArgv: (...args: string[]) => string[];
    interleave: Interleave;
    reps: number;
    fleetSizes: readonly number[];
  },
): Promise<RemoteResults> {
  const why = remoteHostsUnavailable();
  if (why !== undefined) {
    console.error(`bench: remote cases skipped: ${why}`);
    return { list: null, fleet: [] };
  }
  const most = Math.max(1, ...how.fleetSizes);
  const names = Array.from({ length: most }, (_, i) => `lab-${i + 1}`);
  console.error(`bench: starting ${most} loopback hosts`);
  await using fleet = await makeRemoteHosts(sb, names.map((name) => ({ name })));
  const env = { ...sb.env, ...fleet.env, NO_COLOR: "1" };
  const run = (argv: string[]) => measure(argv, { env, cwd: sb.work });
  const flake = join(sb.work, "fleet");
  const write = (round: number) =>
    writeFleetFlake(
      flake,
      Object.fromEntries(names.map((n) => [n, [{ name: "hello", version: `1.${round}` }]])),
      { system: sb.system },
    );
  await write(0);
  await run(how.fprofArgv("switch", `path:${flake}`, "--target-host", "lab-1"));
  const [f, s] = await how.interleave([
    { label: "fprof", run: () => run(how.fprofArgv("list", "--target-host", "lab-1")) },
    {
      label: "ssh",
      run: () => run(["ssh", "-F", fleet.sshConfig, "lab-1", "nix-env", "-q"]),
    },
  ]);
  console.error(
    `bench: list --target-host: fprof ${f.medianMs} ms, ssh nix-env -q ${s.medianMs} ms`,
  );
  const rows: FleetRow[] = [];
  let round = 1;
  for (const n of how.fleetSizes) {
    const hosts = names.slice(0, n);
    const times: number[] = [];
    const bytes: number[] = [];
    for (let rep = 0; rep <= how.reps; rep++) {
      await write(round++);
      for (const h of hosts) await fleet.cutAfter(h, null);
      const argv = how.fprofArgv(
        "switch",
        `path:${flake}`,
        ...hosts.flatMap((h) => ["--target-host", `${h}-flaky`]),
      );
      const sample = await run(argv);
      if (rep === 0) continue;
      times.push(sample.ms);
      for (const h of hosts) bytes.push((await fleet.relayedBytes(h)).reduce((a, b) => a + b, 0));
    }
    const row = {
      hosts: n,
      jobs: 4,
      medianMs: Math.round(median(times)),
      bytesPerHost: median(bytes),
    };
    console.error(`bench: fleet of ${n}: ${row.medianMs} ms, ${row.bytesPerHost} bytes per host`);
    rows.push(row);
  }
  return { list: { fprof: f, ssh: s }, fleet: rows };
}

/** The remote results as Markdown. Pure. */
export function remoteMarkdown(r: RemoteResults, nix: string): string {
  const lines: string[] = [];
  if (r.list) {
    const ratio = Math.round((r.list.fprof.medianMs / r.list.ssh.medianMs) * 100) / 100;
    lines.push(
      `\`fprof list --target-host\` ${r.list.fprof.medianMs} ms against ` +
        `\`ssh HOST nix-env -q\` ${r.list.ssh.medianMs} ms on ${nix}: ${ratio}×.`,
      "",
    );
  }
  if (r.fleet.length > 0) {
    lines.push(
      `| hosts (${nix}) | --jobs | changed switch, wall (ms) | bytes per host |`,
      "|---:|---:|---:|---:|",
      ...r.fleet.map((row) =>
        `| ${row.hosts} | ${row.jobs} | ${row.medianMs} | ${row.bytesPerHost} |`
      ),
    );
  }
  return lines.join("\n") + "\n";
}
