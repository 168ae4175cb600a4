/**
 * A fleet switch: several loopback hosts at once, at most `--jobs` at a
 * time, one result per host and a summary (or `--json`), and a host that
 * hangs past `--timeout` failing alone while the others switch.
 */

import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { join } from "node:path";
import { type FixturePackage, writeFleetFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { makeRemoteHosts, remoteHostsUnavailable } from "./helpers/remote_host.ts";
import { makeNixSandbox } from "./helpers/sandbox.ts";
import type { FleetReportJson } from "../lib/commands/switch_hosts.ts";

const ignore = remoteHostsUnavailable() !== undefined;

const HELLO: FixturePackage = { name: "hello", version: "2.12", bins: ["hello"] };
const JQ: FixturePackage = { name: "jq", version: "1.7", bins: ["jq"] };

Deno.test({
  name: "three hosts switch two at a time, and --json reports each host and the counts",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [
      { name: "lab-a" },
      { name: "lab-b" },
      { name: "lab-c" },
    ]);
    const flake = join(sb.work, "fleet");
    await writeFleetFlake(flake, { "lab-a": [HELLO], "lab-b": [JQ], "lab-c": [HELLO, JQ] }, {
      system: sb.system,
    });
    const hosts = ["lab-a", "lab-b", "lab-c"].flatMap((h) => ["--target-host", h]);
    const r = await fprofOk(sb, ["switch", `path:${flake}`, ...hosts, "--jobs", "2", "--json"], {
      env: fleet.env,
    });
    const doc = JSON.parse(r.stdout) as FleetReportJson;
    assertEquals(doc.hosts.map((h) => [h.host, h.action, h.generation]), [
      ["lab-a", "switched", 1],
      ["lab-b", "switched", 1],
      ["lab-c", "switched", 1],
    ]);
    assertEquals([doc.summary.switched, doc.summary.unchanged, doc.summary.failed], [3, 0, 0]);
    const again = await fprofOk(sb, ["switch", `path:${flake}`, ...hosts], { env: fleet.env });
    assertStringIncludes(again.stderr, "lab-b: no changes (generation 1)");
    assertStringIncludes(again.stderr, "3 hosts: 0 switched, 3 unchanged, 0 failed");
    const q = await fleet.hosts[2].runOk(["nix-env", "-q"]);
    assertEquals(q.stdout.trim().split("\n").sort(), ["hello-2.12", "jq-1.7"]);
  },
});

Deno.test({
  name: "a host that hangs fails alone after --timeout, and the others switch",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }]);
    // A "host" that accepts the connection and never answers.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    (async () => {
      for await (const c of listener) held.push(c);
    })().catch(() => {});
    try {
      const config = join(sb.work, "ssh_config");
      const fleetConfig = fleet.env.NIX_SSHOPTS!.replace(/^-F\s+/, "");
      await Deno.writeTextFile(
        config,
        `Include ${fleetConfig}\nHost lab-hang\n  HostName 127.0.0.1\n  Port ${
          (listener.addr as Deno.NetAddr).port
        }\n  BatchMode yes\n  StrictHostKeyChecking yes\n  UserKnownHostsFile /dev/null\n`,
      );
      const flake = join(sb.work, "fleet");
      await writeFleetFlake(flake, { "lab-a": [HELLO], "lab-hang": [JQ] }, { system: sb.system });
      const started = Date.now();
      const r = await fprof(sb, [
        "switch",
        `path:${flake}`,
        "--target-host",
        "lab-a",
        "--target-host",
        "lab-hang",
        "--timeout",
        "5",
      ], { env: { ...fleet.env, NIX_SSHOPTS: `-F ${config}` } });
      const took = (Date.now() - started) / 1000;
      assertEquals(r.code, 1, r.stderr);
      assertStringIncludes(r.stderr, "lab-a: switched to generation 1");
      assertStringIncludes(r.stderr, "error: lab-hang: did not finish within 5 s (--timeout)");
      assertStringIncludes(r.stderr, "1 of 2 hosts failed: lab-hang");
      // Not a time limit on fprof: only that the hanging host did not hold it forever.
      assertOk(took < 120, `fprof waited ${took} s for a host that never answers`);
      const q = await fleet.hosts[0].runOk(["nix-env", "-q"]);
      assertEquals(q.stdout.trim(), "hello-2.12");
    } finally {
      listener.close();
      for (const c of held) c.close();
    }
  },
});

Deno.test("--jobs and --timeout need --target-host, and --jobs 0 is refused", async () => {
  await using sb = await makeNixSandbox();
  const noHost = await fprof(sb, ["switch", "--timeout", "3", "path:/nonexistent"]);
  assertEquals(noHost.code, 2, noHost.stderr);
  assertStringIncludes(noHost.stderr, "error: --timeout needs --target-host");
  const zero = await fprof(sb, ["switch", "--jobs", "0", "--target-host", "x", "path:/x"]);
  assertEquals(zero.code, 2, zero.stderr);
});
