/**
 * One ssh login per host and command: fprof's own ssh calls and Nix's
 * `nix copy --to ssh-ng://` share one connection, counted in the loopback
 * host's sshd log, and fprof leaves no master or socket behind.
 */

import { assertEquals, assertOk } from "./helpers/testing.ts";
import { join } from "node:path";
import { type FixturePackage, writeFleetFlake } from "./helpers/fixtures.ts";
import { fprofOk } from "./helpers/fprof.ts";
import { makeRemoteHosts, type RemoteHost, remoteHostsUnavailable } from "./helpers/remote_host.ts";
import { makeNixSandbox } from "./helpers/sandbox.ts";

const ignore = remoteHostsUnavailable() !== undefined;

const HELLO: FixturePackage = { name: "hello", version: "2.12", bins: ["hello"] };
const JQ: FixturePackage = { name: "jq", version: "1.7", bins: ["jq"] };

/** How many logins the host's sshd has accepted so far. */
async function logins(host: RemoteHost): Promise<number> {
  const log = await Deno.readTextFile(join(host.root, "sshd", "sshd.log"));
  return log.split("\n").filter((l) => /Accepted \S+ for /.test(l)).length;
}

/** The socket directories fprof processes left in `dir`. */
async function leftDirs(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
    .filter((n) => n.startsWith("fprof-ssh-"));
}

Deno.test({
  name: "a switch, a list and generations of a host log in once each, and leave no socket behind",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }]);
    const [a] = fleet.hosts;
    const flake = join(sb.work, "fleet");
    await writeFleetFlake(flake, { "lab-a": [HELLO, JQ] }, { system: sb.system });
    // A short directory of its own: a socket's path has room for 107 bytes.
    const runtime = await Deno.makeTempDir({ dir: "/tmp", prefix: "fprof-rt-" });
    await using _ = { [Symbol.asyncDispose]: () => Deno.remove(runtime, { recursive: true }) };
    const env = { ...fleet.env, XDG_RUNTIME_DIR: runtime };
    const counted = async (args: string[]) => {
      const before = await logins(a);
      await fprofOk(sb, args, { env });
      return (await logins(a)) - before;
    };
    const counts = {
      switch: await counted(["switch", `path:${flake}`, "--target-host", "lab-a"]),
      list: await counted(["list", "--target-host", "lab-a"]),
      generations: await counted(["generations", "--target-host", "lab-a"]),
    };
    assertEquals(counts, { switch: 1, list: 1, generations: 1 });
    assertEquals(await leftDirs(runtime), []);
    const q = await a.runOk(["nix-env", "-q"]);
    assertEquals(q.stdout.trim().split("\n").sort(), ["hello-2.12", "jq-1.7"]);
  },
});

Deno.test({
  name:
    "the user's own ControlMaster choice in NIX_SSHOPTS is kept: fprof adds no sharing of its own",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }]);
    const [a] = fleet.hosts;
    // A short directory of its own: a socket's path has room for 107 bytes.
    const runtime = await Deno.makeTempDir({ dir: "/tmp", prefix: "fprof-rt-" });
    await using _ = { [Symbol.asyncDispose]: () => Deno.remove(runtime, { recursive: true }) };
    const opts = `${fleet.env.NIX_SSHOPTS ?? ""} -o ControlMaster=no`.trim();
    const env = { ...fleet.env, XDG_RUNTIME_DIR: runtime, NIX_SSHOPTS: opts };
    const before = await logins(a);
    await fprofOk(sb, ["list", "--target-host", "lab-a"], { env });
    const n = (await logins(a)) - before;
    assertOk(n >= 2, `without sharing, a list logs in for the facts and for the state (${n})`);
    assertEquals(await leftDirs(runtime), []);
  },
});
