/**
 * `--target-host`: fprof switches, lists, compares and rolls back the
 * profiles of other machines (loopback hosts, see helpers/remote_host.ts),
 * and each target's own Nix agrees with what fprof says about it.
 */

import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { basename, join } from "node:path";
import { type FixturePackage, writeFleetFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { otherTestNix } from "./helpers/nix_version.ts";
import { manifestJsonVersionFor } from "../lib/nix/nix.ts";
import {
  type Fleet,
  makeRemoteHosts,
  makeSigningKey,
  type RemoteHost,
  remoteHostsUnavailable,
} from "./helpers/remote_host.ts";
import { exists, makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";
import type { ListJson } from "../lib/commands/list.ts";
import type { GenerationJson } from "../lib/commands/generations.ts";

const ignore = remoteHostsUnavailable() !== undefined;
if (ignore) console.error(`skipped: ${remoteHostsUnavailable()}`);

const HELLO: FixturePackage = { name: "hello", version: "2.12", bins: ["hello"] };
const JQ: FixturePackage = { name: "jq", version: "1.7", bins: ["jq"] };
const COWSAY: FixturePackage = { name: "cowsay", version: "3.7", bins: ["cowsay"] };

/** `switch path:FLAKE` with `--target-host` for each host, then `more`. */
function switchArgs(flake: string, hosts: string[], ...more: string[]): string[] {
  return ["switch", `path:${flake}`, ...hosts.flatMap((h) => ["--target-host", h]), ...more];
}

/** fprof with the fleet's ssh config. */
function run(sb: NixSandbox, fleet: Fleet, args: string[]) {
  return fprof(sb, args, { env: fleet.env });
}
function runOk(sb: NixSandbox, fleet: Fleet, args: string[]) {
  return fprofOk(sb, args, { env: fleet.env });
}

async function listOf(sb: NixSandbox, fleet: Fleet, host: string): Promise<ListJson> {
  return JSON.parse((await runOk(sb, fleet, ["list", "--json", "--target-host", host])).stdout);
}

const names = (doc: ListJson) => doc.packages.map((p) => `${p.name}-${p.version}`).sort();

/**
 * What the host's own Nix says its profile holds: `nix profile list`, and
 * `nix-env -q` for a manifest.nix (newer nix-env refuses a manifest.json
 * profile).
 */
async function assertTargetAgrees(host: RemoteHost, doc: ListJson): Promise<void> {
  if (doc.manifest === "nix") {
    const q = await host.runOk(["nix-env", "-q"]);
    assertEquals(q.stdout.trim().split("\n").filter((l) => l !== "").sort(), names(doc));
  }
  const listed = await host.runOk(["nix", "profile", "list", "--profile", doc.profile]);
  for (const p of doc.packages) assertStringIncludes(listed.stdout, p.storePaths[0]);
}

/** The store path the host's profile points to now, asked on the host. */
async function currentOn(host: RemoteHost, profile: string): Promise<string> {
  return (await host.runOk(["readlink", "-f", profile])).stdout.trim();
}

/**
 * The bytes of each connection through `<host>-flaky`, once every relay has
 * counted: a relay still closing when fprof exits counts less, or nothing,
 * for a moment.
 */
async function settledBytes(fleet: Fleet, host: string): Promise<number[]> {
  let last = await fleet.relayedBytes(host);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await fleet.relayedBytes(host);
    if (now.length > 0 && JSON.stringify(now) === JSON.stringify(last) && now.every((b) => b > 0)) {
      return now;
    }
    last = now;
  }
  return last;
}

Deno.test({
  name: "one flake switches two hosts to their own profiles.<hostname>, and their Nix agrees",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }, { name: "lab-b" }]);
    const [a, b] = fleet.hosts;
    const flake = join(sb.work, "fleet");
    await writeFleetFlake(flake, { "lab-a": [HELLO, JQ], "lab-b": [COWSAY] }, {
      system: sb.system,
    });

    const dry = await runOk(sb, fleet, switchArgs(flake, ["lab-a"], "--dry-run"));
    assertStringIncludes(dry.stdout, `would create 'lab-a:${a.defaultProfile}'`);
    assertStringIncludes(dry.stdout, "+ hello 2.12");
    assertOk(!exists(a.defaultProfile), "a dry run changes nothing on the target");
    const plan = JSON.parse(
      (await runOk(sb, fleet, switchArgs(flake, ["lab-a"], "--dry-run", "--json"))).stdout,
    );
    assertEquals([plan.profile, plan.host, plan.action, plan.from], [
      a.defaultProfile,
      "lab-a",
      "switch",
      null,
    ]);

    const r = await runOk(sb, fleet, switchArgs(flake, ["lab-a", "lab-b"]));
    assertStringIncludes(r.stderr, "fprof: lab-a: switched to generation 1");
    assertStringIncludes(r.stderr, "fprof: lab-b: switched to generation 1");

    const docA = await listOf(sb, fleet, "lab-a");
    const docB = await listOf(sb, fleet, "lab-b");
    assertEquals(docA.host, "lab-a");
    assertEquals(docA.profile, a.defaultProfile);
    assertEquals(names(docA), ["hello-2.12", "jq-1.7"]);
    assertEquals(names(docB), ["cowsay-3.7"]);
    await assertTargetAgrees(a, docA);
    await assertTargetAgrees(b, docB);
    // Each host got its own closure, and only that.
    const jqPath = docA.packages.find((p) => p.name === "jq")!.storePaths[0];
    assertOk(exists(join(a.realStore, basename(jqPath))));
    assertOk(!exists(join(b.realStore, basename(jqPath))));
    // The first switch linked ~/.nix-profile there, as it does here.
    assertEquals(await currentOn(a, join(a.home, ".nix-profile")), docA.storePath);

    // A garbage collection on the target keeps what its profile holds.
    await a.runOk(["nix-store", "--gc"]);
    assertEquals(names(await listOf(sb, fleet, "lab-a")), ["hello-2.12", "jq-1.7"]);
    const hello = await a.runOk([join(a.home, ".nix-profile", "bin", "hello")]);
    assertEquals(hello.stdout, "hello 2.12\n");

    // lab-a changes; lab-b, switched again, has no changes.
    await writeFleetFlake(flake, { "lab-a": [HELLO, COWSAY], "lab-b": [COWSAY] }, {
      system: sb.system,
    });
    const again = await runOk(sb, fleet, switchArgs(flake, ["lab-a", "lab-b"]));
    assertStringIncludes(again.stderr, "fprof: lab-a: switched to generation 2");
    assertStringIncludes(again.stderr, "fprof: lab-b: no changes (generation 1)");
    await a.runOk(["nix-store", "--gc"]);

    const diff = await runOk(sb, fleet, ["diff", "--target-host", "lab-a"]);
    assertEquals(diff.stdout, "+ cowsay 3.7\n- jq 1.7\n");
    const gens: { host: string; generations: GenerationJson[] } = JSON.parse(
      (await runOk(sb, fleet, ["generations", "--json", "--target-host", "lab-a"])).stdout,
    );
    assertEquals(gens.host, "lab-a");
    assertEquals(gens.generations.map((g) => [g.number, g.parent, g.current]), [
      [1, null, false],
      [2, 1, true],
    ]);

    const back = await runOk(sb, fleet, ["rollback", "--target-host", "lab-a"]);
    assertStringIncludes(back.stderr, "generation 2 → 1 (its parent)");
    const rolled = await listOf(sb, fleet, "lab-a");
    assertEquals(rolled.generation, 1);
    await assertTargetAgrees(a, rolled);
    assertEquals(await currentOn(a, a.defaultProfile), docA.storePath);
    assertEquals((await listOf(sb, fleet, "lab-b")).generation, 1);
  },
});

Deno.test({
  name: "a config group names several hosts; one failing leaves the others switched",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }, { name: "lab-b" }]);
    const flake = join(sb.work, "fleet");
    // lab-b's profile does not build.
    await writeFleetFlake(flake, {
      "lab-a": [HELLO],
      "lab-b": [{ name: "bad", version: "1", fail: true }],
    }, { system: sb.system });
    await Deno.mkdir(join(sb.xdgConfig, "fprof"), { recursive: true });
    await Deno.writeTextFile(
      join(sb.xdgConfig, "fprof", "config.jsonc"),
      '{ "hosts": { "lab": ["lab-a", "lab-b"] } }\n',
    );
    const r = await run(sb, fleet, ["switch", `path:${flake}`, "--target-host", "@lab"]);
    assertEquals(r.code, 1, r.stderr);
    assertStringIncludes(r.stderr, "fprof: lab-a: switched to generation 1");
    assertStringIncludes(r.stderr, "error: lab-b: ");
    assertStringIncludes(r.stderr, "error: 1 of 2 hosts failed: lab-b\n");
    assertEquals(names(await listOf(sb, fleet, "lab-a")), ["hello-2.12"]);
    assertEquals((await listOf(sb, fleet, "lab-b")).generation, null);

    const unknown = await run(sb, fleet, ["switch", `path:${flake}`, "--target-host", "@nope"]);
    assertEquals(unknown.code, 2);
    assertStringIncludes(unknown.stderr, "error: no host group 'nope' in the config\n");

    // Host keys are checked as ssh checks them: an unknown key is an error.
    const strange = await fprof(sb, ["list", "--target-host", "lab-a"], {
      env: { NIX_SSHOPTS: `${fleet.env.NIX_SSHOPTS} -o UserKnownHostsFile=/dev/null` },
    });
    assertEquals(strange.code, 1, strange.stderr);
    assertStringIncludes(
      strange.stderr,
      "error: cannot reach 'lab-a': Host key verification failed\nhint: check the host's key",
    );
  },
});

Deno.test({
  name: "an untrusted target refuses unsigned paths with a clear error, and takes them signed",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    const key = await makeSigningKey(sb);
    await using fleet = await makeRemoteHosts(sb, [
      { name: "lab-d", daemon: true, trustedPublicKeys: [key.publicKey] },
    ]);
    const d = fleet.hosts[0];
    const flake = join(sb.work, "fleet");
    await writeFleetFlake(flake, { "lab-d": [HELLO] }, { system: sb.system });

    const refused = await run(sb, fleet, ["switch", `path:${flake}`, "--target-host", "lab-d"]);
    assertEquals(refused.code, 1, refused.stderr);
    assertStringIncludes(refused.stderr, "error: 'lab-d' refuses unsigned paths: ");
    assertStringIncludes(refused.stderr, "hint: sign them with --sign-key FILE");
    assertOk(!refused.stderr.includes(key.secret.split(":")[1]), "the secret key is never printed");
    assertEquals((await listOf(sb, fleet, "lab-d")).generation, null);

    const signed = await runOk(
      sb,
      fleet,
      switchArgs(flake, ["lab-d"], "--sign-key", key.file, "--verbose"),
    );
    assertOk(!signed.stderr.includes(key.secret.split(":")[1]), "not even with --verbose");
    const doc = await listOf(sb, fleet, "lab-d");
    assertEquals(names(doc), ["hello-2.12"]);
    await assertTargetAgrees(d, doc);

    // The user's own secret-key-files sign too, with no --sign-key: here
    // for paths built before they were set, which Nix did not sign.
    await writeFleetFlake(flake, { "lab-d": [HELLO, JQ] }, { system: sb.system });
    await sb.runOk([
      "nix",
      "build",
      "--no-link",
      `path:${flake}#legacyPackages.${sb.system}.profiles.lab-d`,
    ]);
    await fprofOk(sb, switchArgs(flake, ["lab-d"]), {
      env: { ...fleet.env, NIX_CONFIG: `secret-key-files = ${key.file}` },
    });
    assertEquals(names(await listOf(sb, fleet, "lab-d")), ["hello-2.12", "jq-1.7"]);
  },
});

Deno.test({
  name: "a target with another Nix version gets a manifest that its Nix reads",
  ignore: ignore || otherTestNix() === undefined,
  async fn() {
    const other = otherTestNix()!;
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-o", nixBin: other.bin }]);
    const o = fleet.hosts[0];
    const flake = join(sb.work, "fleet");
    await writeFleetFlake(flake, { "lab-o": [HELLO, JQ] }, { system: sb.system });
    await runOk(sb, fleet, ["switch", `path:${flake}`, "--target-host", "lab-o"]);
    const first = await listOf(sb, fleet, "lab-o");
    assertEquals([first.manifest, first.profile], ["nix", o.defaultProfile]);
    await assertTargetAgrees(o, first);

    await writeFleetFlake(flake, { "lab-o": [HELLO] }, { system: sb.system });
    await runOk(sb, fleet, switchArgs(flake, ["lab-o"], "--manifest=json"));
    const doc = await listOf(sb, fleet, "lab-o");
    assertEquals(doc.manifest, "json");
    await assertTargetAgrees(o, doc);
    // The manifest.json version is the target's, not this machine's.
    const text = (await o.runOk(["cat", join(doc.storePath!, "manifest.json")])).stdout;
    assertEquals(JSON.parse(text).version, manifestJsonVersionFor(o.nixVersion));
  },
});

Deno.test({
  name: "a connection dropped during a switch leaves the target at its old or its new generation",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }]);
    const a = fleet.hosts[0];
    const flake = join(sb.work, "fleet");
    const write = (pkgs: FixturePackage[]) =>
      writeFleetFlake(flake, { "lab-a": pkgs }, { system: sb.system });
    const switchVia = (alias: string) =>
      run(sb, fleet, ["switch", `path:${flake}`, "--target-host", alias]);
    await write([HELLO]);
    await runOk(sb, fleet, ["switch", `path:${flake}`, "--target-host", "lab-a"]);
    const old = await currentOn(a, a.defaultProfile);
    // Back to generation 1 alone, with nothing of the new one on the target.
    const restore = async () => {
      if (await currentOn(a, a.defaultProfile) !== old) {
        await runOk(sb, fleet, ["rollback", "--target-host", "lab-a"]);
      }
      await a.runOk(["nix-env", "-p", a.defaultProfile, "--delete-generations", "old"]);
      await a.runOk(["nix-store", "--gc"]);
    };

    // What a whole switch to the new content sends and receives.
    await write([HELLO, JQ, COWSAY]);
    // A loaded machine can leave a relay uncounted for longer than
    // settledBytes waits: such a measurement is taken again.
    let connections: number[] = [];
    let measured: ListJson | undefined;
    for (let i = 0; i < 3 && !connections.some((b) => b >= 1024); i++) {
      await fleet.cutAfter("lab-a", null);
      assertEquals((await switchVia("lab-a-flaky")).code, 0);
      connections = await settledBytes(fleet, "lab-a");
      measured = await listOf(sb, fleet, "lab-a");
      await restore();
    }
    const fresh = measured!;
    assertOk(connections.some((b) => b >= 1024), `no whole switch counted: ${connections}`);

    // Cut each of its connections in the middle, one switch at a time, and
    // the biggest one at more places. fprof shares one connection per host
    // (the reads of the host, the copy, the set, the read after it all go
    // over it), so that one is cut at five places along the way.
    const starts = connections.map((_, i) => connections.slice(0, i).reduce((n, b) => n + b, 0));
    const copy = connections.indexOf(Math.max(...connections));
    const cutAt = connections.flatMap((bytes, i) =>
      bytes < 2
        ? []
        : (i === copy ? [0.2, 0.35, 0.5, 0.65, 0.8] : [0.5]).map((f) =>
          starts[i] + Math.floor(bytes * f)
        )
    );
    let cut = 0;
    let midway = 0;
    // What each cut did, for the message of a failed assertion.
    const seen: string[] = [];
    for (const at of cutAt) {
      await fleet.cutAfter("lab-a", at);
      const r = await switchVia("lab-a-flaky");
      const now = await currentOn(a, a.defaultProfile);
      seen.push(
        `at ${at} of ${connections}: exit ${r.code}, ${now === old ? "old" : "new"}: ` +
          r.stderr.trim().split("\n").slice(-3).join(" | "),
      );
      assertOk(now === old || now === fresh.storePath, `in between: ${now}`);
      await a.runOk(["nix-store", "--verify"]);
      if (r.code === 0) {
        assertEquals(now, fresh.storePath, "a switch that says it worked did");
      } else {
        cut++;
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
        assertEquals(errors.length, 1, r.stderr);
        assertStringIncludes(errors[0], "'lab-a-flaky'");
        assertOk(!r.stderr.includes("    at "), `no stack trace:\n${r.stderr}`);
        // Cut after the plan was shown, while the closure went over or
        // before nix-env set it.
        if (now === old && r.stderr.includes("+ jq 1.7")) midway++;
      }
      await restore();
    }
    assertOk(cut >= cutAt.length - 2, `only ${cut} of ${cutAt.length} switches were cut`);
    assertOk(
      midway >= 1,
      `no cut fell between the start of the copy and the set (connections ${connections}):\n${
        seen.join("\n")
      }`,
    );

    // A switch that is not cut finishes the job, whatever the cut ones left.
    await fleet.cutAfter("lab-a", null);
    assertEquals((await switchVia("lab-a")).code, 0);
    const doc = await listOf(sb, fleet, "lab-a");
    assertEquals(names(doc), ["cowsay-3.7", "hello-2.12", "jq-1.7"]);
    assertEquals(doc.storePath, fresh.storePath);
    await assertTargetAgrees(a, doc);
  },
});

Deno.test({
  name: "--build-host builds there and copies from there to the target, not through here",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    const key = await makeSigningKey(sb);
    await using fleet = await makeRemoteHosts(sb, [
      { name: "lab-a" },
      { name: "builder", reaches: ["lab-a", "lab-d"] },
      { name: "lab-d", daemon: true, trustedPublicKeys: [key.publicKey] },
    ]);
    const [a, builder, d] = fleet.hosts;
    const flake = join(sb.work, "fleet");
    await writeFleetFlake(flake, { "lab-a": [HELLO, JQ], "lab-d": [JQ] }, {
      system: sb.system,
    });
    await runOk(sb, fleet, switchArgs(flake, ["lab-a"], "--build-host", "builder"));
    const doc = await listOf(sb, fleet, "lab-a");
    assertEquals(names(doc), ["hello-2.12", "jq-1.7"]);
    await assertTargetAgrees(a, doc);
    for (const p of [...doc.packages.map((p) => p.storePaths[0]), doc.storePath!]) {
      assertOk(exists(join(builder.realStore, basename(p))), `${p} was built on the build host`);
      assertOk(!exists(join(sb.storeDir, basename(p))), `${p} never came here`);
    }

    // An untrusted target: the build host's paths are signed there with the
    // local key file.
    await runOk(
      sb,
      fleet,
      switchArgs(flake, ["lab-d"], "--build-host", "builder", "--sign-key", key.file),
    );
    const signed = await listOf(sb, fleet, "lab-d");
    assertEquals(names(signed), ["jq-1.7"]);
    await assertTargetAgrees(d, signed);
    assertOk(!exists(join(sb.storeDir, basename(signed.packages[0].storePaths[0]))));

    // Without a target, the result comes here.
    const local = join(sb.work, "local");
    await writeFleetFlake(local, { "lab-a": [COWSAY] }, { system: sb.system });
    await runOk(sb, fleet, [
      "switch",
      `path:${local}#legacyPackages.${sb.system}.profiles.lab-a`,
      "--build-host",
      "builder",
      "--profile",
      sb.profile,
    ]);
    const here: ListJson = JSON.parse(
      (await runOk(sb, fleet, ["list", "--json", "--profile", sb.profile])).stdout,
    );
    assertEquals(names(here), ["cowsay-3.7"]);
    const cowsay = here.packages[0].storePaths[0];
    assertOk(exists(join(builder.realStore, basename(cowsay))), "built on the build host");
    assertOk(exists(join(sb.storeDir, basename(cowsay))), "and copied here");
  },
});

Deno.test({
  name: "the bin/nix guard and the drift check judge the target by the target's own generations",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }]);
    const a = fleet.hosts[0];
    const flake = join(sb.work, "fleet");
    const nix: FixturePackage = { name: "nix", version: "2.99", bins: ["nix"] };
    await writeFleetFlake(flake, { "lab-a": [HELLO, nix], "other": [COWSAY] }, {
      system: sb.system,
    });
    await runOk(sb, fleet, ["switch", `path:${flake}`, "--target-host", "lab-a"]);
    // Another tool adds a package on the target: nix-env -i of a path copied there.
    const built = await sb.runOk([
      "nix",
      "build",
      "--no-link",
      "--json",
      `path:${flake}#legacyPackages.${sb.system}.profiles.other`,
    ]);
    const other: string = JSON.parse(built.stdout)[0].outputs.out;
    const cowsay = (await sb.runOk(["nix-store", "-q", "--references", other])).stdout.trim();
    await sb.runOk(["nix", "copy", "--no-check-sigs", "--to", "ssh-ng://lab-a", cowsay], {
      env: fleet.env,
    });
    await a.runOk(["nix-env", "-i", cowsay]);

    await writeFleetFlake(flake, { "lab-a": [HELLO] }, { system: sb.system });
    const args = ["switch", `path:${flake}`, "--target-host", "lab-a"];
    const guarded = await run(sb, fleet, args);
    assertEquals(guarded.code, 1, guarded.stderr);
    assertStringIncludes(
      guarded.stderr,
      "error: refusing to switch: the current generation provides 'bin/nix'",
    );
    const drift = await run(sb, fleet, [...args, "--force"]);
    assertEquals(drift.code, 1, drift.stderr);
    assertStringIncludes(drift.stderr, "was not made by fprof");
    assertStringIncludes(drift.stderr, "would drop: cowsay 3.7");
    assertEquals((await listOf(sb, fleet, "lab-a")).generation, 2, "nothing changed");
    await runOk(sb, fleet, [...args, "--force", "--yes"]);
    assertEquals(names(await listOf(sb, fleet, "lab-a")), ["hello-2.12"]);
  },
});
