/**
 * The loopback hosts of remote_host.ts behave like other machines: their own
 * names and stores, strict host keys, Nix's ssh-ng transport with the trust
 * rules of a real target, another Nix version, and a connection that drops
 * on demand.
 */

import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { basename, join } from "node:path";
import { writeProfileFlake } from "./helpers/fixtures.ts";
import { otherTestNix, testNix } from "./helpers/nix_version.ts";
import {
  type Fleet,
  makeRemoteHosts,
  makeSigningKey,
  remoteHostsUnavailable,
} from "./helpers/remote_host.ts";
import { daemonUnavailable, exists, makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";
import { A } from "./helpers/scenario.ts";

const ignore = remoteHostsUnavailable() !== undefined;
if (ignore) console.error(`skipped: ${remoteHostsUnavailable()}`);

/** Builds a one-file store path in the sandbox: `script` writes `$out` (with /usr/bin on PATH). */
async function buildPath(sb: NixSandbox, name: string, script: string): Promise<string> {
  const expr = `derivation {
    name = ${JSON.stringify(name)};
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" ${JSON.stringify(script)} ];
    PATH = "/usr/bin:/bin";
  }`;
  const { stdout } = await sb.runOk([
    "nix",
    "build",
    "--impure",
    "--no-link",
    "--json",
    "--expr",
    expr,
  ]);
  return JSON.parse(stdout)[0].outputs.out;
}

/** `nix copy` from the sandbox to `url`, with the fleet's ssh config. */
function copyTo(sb: NixSandbox, fleet: Fleet, url: string, path: string, flags: string[] = []) {
  return sb.run(["nix", "copy", ...flags, "--to", url, path], { env: fleet.env });
}

/**
 * Nix's refusal of an unsigned path: "lacks a valid signature" up to 2.2x,
 * "lacks a signature by a trusted key" on 2.26 and later.
 */
function assertRefusedUnsigned(stderr: string): void {
  assertOk(
    /lacks a (valid )?signature/.test(stderr),
    `expected a signature refusal in:\n${stderr}`,
  );
}

Deno.test({
  name: "remote hosts answer with their own names, as the sandbox's user and by run()",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }, { name: "lab-b" }]);
    for (const host of fleet.hosts) {
      const viaSsh = await sb.runOk(["ssh", "-F", fleet.sshConfig, host.name, "uname", "-n"]);
      assertEquals(viaSsh.stdout, `${host.name}\n`);
      const { stdout } = await host.runOk(["sh", "-c", 'uname -n; id -un; echo "$HOME"']);
      assertEquals(stdout, `${host.name}\n${host.user}\n${host.home}\n`);
    }
    assertOk(fleet.hosts[0].port !== fleet.hosts[1].port);
    // Arguments reach the remote command as they are.
    const odd = ["it's", "$HOME", "a b", "*", ""];
    const echoed = await fleet.hosts[0].runOk(["printf", "%s|", ...odd]);
    assertEquals(echoed.stdout, odd.map((a) => `${a}|`).join(""));
    const fed = await fleet.hosts[0].runOk(["cat"], { stdin: "from stdin\n" });
    assertEquals(fed.stdout, "from stdin\n");
  },
});

Deno.test({
  name: "remote hosts check host keys strictly: a wrong known_hosts entry fails",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }, { name: "lab-b" }]);
    const [a, b] = fleet.hosts;
    // lab-b's key recorded for lab-a's port.
    const known = await Deno.readTextFile(join(fleet.root, "client", "known_hosts"));
    const bKey = known.split("\n").find((l) => l.startsWith(`[127.0.0.1]:${b.port} `))!
      .split(" ").slice(1).join(" ");
    const wrong = join(sb.work, "wrong_known_hosts");
    await Deno.writeTextFile(wrong, `[127.0.0.1]:${a.port} ${bKey}\n`);
    const res = await sb.run([
      "ssh",
      "-F",
      fleet.sshConfig,
      "-o",
      `UserKnownHostsFile=${wrong}`,
      a.name,
      "true",
    ]);
    assertOk(res.code !== 0);
    assertStringIncludes(res.stderr, "Host key verification failed");
    // No entry at all fails too: nothing is accepted on first use.
    const none = await sb.run([
      "ssh",
      "-F",
      fleet.sshConfig,
      "-o",
      "UserKnownHostsFile=/dev/null",
      a.name,
      "true",
    ]);
    assertOk(none.code !== 0);
    assertStringIncludes(none.stderr, "Host key verification failed");
  },
});

Deno.test({
  name: "nix copy to a remote host lands in its own store only, and its Nix manages it",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }, { name: "lab-b" }]);
    const [a, b] = fleet.hosts;
    const flake = join(sb.work, "a");
    await writeProfileFlake(flake, A, { system: sb.system, env: "builtin" });
    const built = await sb.runOk(["nix", "build", "--no-link", "--json", `path:${flake}#profile`]);
    const env: string = JSON.parse(built.stdout)[0].outputs.out;

    // The owner of a store is trusted by its `nix-daemon --stdio`, but the
    // unsigned path still needs --no-check-sigs.
    const unsigned = await copyTo(sb, fleet, `ssh-ng://${a.name}`, env);
    assertOk(unsigned.code !== 0);
    assertRefusedUnsigned(unsigned.stderr);
    const copied = await copyTo(sb, fleet, `ssh-ng://${a.name}`, env, ["--no-check-sigs"]);
    assertEquals(copied.code, 0, copied.stderr);
    assertOk(exists(join(a.realStore, basename(env))), "the path is in lab-a's store");
    assertOk(!exists(join(b.realStore, basename(env))), "the path is not in lab-b's store");
    // lab-a sees its own store at the logical path: the local files are not there.
    await a.runOk(["nix-store", "--verify-path", env]);
    assertOk((await b.run(["nix-store", "--verify-path", env])).code !== 0);

    // A generation made with the host's own Nix, in its default profile.
    await a.runOk(["nix-env", "--set", env]);
    const link = await Deno.lstat(a.defaultProfile);
    assertOk(link.isSymlink, `${a.defaultProfile} is the host's default profile`);
    const listed = await a.runOk(["nix-env", "-q"]);
    assertEquals(
      listed.stdout.trim().split("\n").sort(),
      A.map((p) => `${p.name}-${p.version}`).sort(),
    );
    const hello = await a.runOk(["sh", "-c", "$HOME/.nix-profile/bin/hello"]);
    assertEquals(hello.stdout.trim(), "hello 2.12.1");

    // Its collector keeps the generation and deletes what nothing roots.
    const loose = await buildPath(sb, "loose", "echo loose > $out");
    await copyTo(sb, fleet, `ssh-ng://${a.name}`, loose, ["--no-check-sigs"]);
    assertOk(exists(join(a.realStore, basename(loose))));
    await a.runOk(["nix-store", "--gc"]);
    assertOk(!exists(join(a.realStore, basename(loose))), "the collector deleted the loose path");
    assertOk(exists(join(a.realStore, basename(env))), "the collector kept the generation");
    assertOk(exists(join(sb.storeDir, basename(loose))), "the local store is untouched");
  },
});

Deno.test({
  name: "a daemon host refuses unsigned paths from its untrusted user, and takes signed ones",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    const key = await makeSigningKey(sb);
    await using fleet = await makeRemoteHosts(sb, [
      { name: "lab-d", daemon: true, trustedPublicKeys: [key.publicKey] },
    ]);
    const d = fleet.hosts[0];
    const ping = await d.runOk(["nix", "store", "ping"]);
    assertStringIncludes(ping.stderr + ping.stdout, "Store URL: daemon");
    const path = await buildPath(sb, "signed-later", "echo signed > $out");

    const refused = await copyTo(sb, fleet, `ssh-ng://${d.name}`, path, ["--no-check-sigs"]);
    assertOk(refused.code !== 0);
    assertRefusedUnsigned(refused.stderr);
    assertOk(!exists(join(d.realStore, basename(path))));

    await sb.runOk(["nix", "store", "sign", "--key-file", key.file, path]);
    const taken = await copyTo(sb, fleet, `ssh-ng://${d.name}`, path);
    assertEquals(taken.code, 0, taken.stderr);
    assertOk(exists(join(d.realStore, basename(path))));
    // The store and its paths belong to the daemon, not to the login user.
    assertEquals((await Deno.stat(join(d.realStore, basename(path)))).uid, 0);
    await d.runOk(["nix-env", "-p", d.defaultProfile, "--set", path]);
    assertOk((await Deno.lstat(d.defaultProfile)).isSymlink);
  },
});

Deno.test({
  name: "a remote host may run another Nix version than the local one",
  ignore: ignore || otherTestNix() === undefined,
  async fn() {
    const other = otherTestNix()!;
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [
      { name: "lab-o", nixBin: other.bin },
      { name: "lab-od", nixBin: other.bin, daemon: true, requireSigs: false },
    ]);
    const path = await buildPath(sb, "across", "echo across > $out");
    for (const host of fleet.hosts) {
      const version = await host.runOk(["nix", "--version"]);
      assertEquals(version.stdout.trim(), other.version.raw);
      assertOk(version.stdout.trim() !== testNix().raw);
      const copied = await copyTo(sb, fleet, `ssh-ng://${host.name}`, path, ["--no-check-sigs"]);
      assertEquals(copied.code, 0, copied.stderr);
      await host.runOk(["nix-env", "--set", path]);
      // The link names the logical path, which only the host resolves to its own store.
      assertEquals(await Deno.realPath(host.defaultProfile), path);
      assertOk(exists(join(host.realStore, basename(path))));
    }
  },
});

Deno.test({
  name: "the flaky alias drops a nix copy after a number of bytes, and passes it without a limit",
  ignore,
  async fn() {
    await using sb = await makeNixSandbox();
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }]);
    const a = fleet.hosts[0];
    const url = `ssh-ng://${a.name}-flaky`;
    // One after the other: two first builds at once race to make the
    // sandbox's gcroots link on Nix 2.26 ("File exists").
    const first = await buildPath(sb, "big-1", "head -c 300000 /dev/urandom > $out");
    const second = await buildPath(sb, "big-2", "head -c 300000 /dev/urandom > $out");

    // A whole copy, to learn how many bytes it takes.
    const whole = await copyTo(sb, fleet, url, first, ["--no-check-sigs"]);
    assertEquals(whole.code, 0, whole.stderr);
    const counts = await fleet.relayedBytes(a.name);
    assertEquals(counts.length, 1);
    assertOk(counts[0] > 300_000, `the copy relayed ${counts[0]} bytes`);

    // Half of it cuts the transfer of the NAR. The budget covers every
    // connection: a short one before leaves the copy what it did not use.
    const half = Math.floor(counts[0] / 2);
    await fleet.cutAfter(a.name, half);
    const flaky = `${a.name}-flaky`;
    await sb.runOk(["ssh", "-F", fleet.sshConfig, flaky, "true"]);
    const cut = await copyTo(sb, fleet, url, second, ["--no-check-sigs"]);
    assertOk(cut.code !== 0);
    const relayed = await fleet.relayedBytes(a.name);
    assertEquals(relayed.length, 2);
    assertEquals(relayed[0] + relayed[1], half);
    assertOk((await a.run(["nix-store", "--verify-path", second])).code !== 0);

    // A small limit stops it during the ssh handshake.
    await fleet.cutAfter(a.name, 100);
    const early = await copyTo(sb, fleet, url, second, ["--no-check-sigs"]);
    assertOk(early.code !== 0);

    await fleet.cutAfter(a.name, null);
    const again = await copyTo(sb, fleet, url, second, ["--no-check-sigs"]);
    assertEquals(again.code, 0, again.stderr);
    await a.runOk(["nix-store", "--verify-path", second]);
  },
});

Deno.test({
  name: "an unprivileged sandbox user reaches remote hosts, the flaky alias included",
  ignore: ignore || daemonUnavailable() !== undefined,
  async fn() {
    await using sb = await makeNixSandbox({ daemon: true });
    await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a", requireSigs: false }]);
    const a = fleet.hosts[0];
    const whoami = await sb.runOk(["id", "-un"]);
    assertEquals(whoami.stdout.trim(), sb.user);
    const path = await buildPath(sb, "from-user", "echo from-user > $out");
    const copied = await copyTo(sb, fleet, `ssh-ng://${a.name}-flaky`, path);
    assertEquals(copied.code, 0, copied.stderr);
    assertOk(exists(join(a.realStore, basename(path))));
    assertEquals((await fleet.relayedBytes(a.name)).length, 1);
  },
});
