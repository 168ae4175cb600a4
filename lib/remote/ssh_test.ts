import { assertEquals, assertOk, assertThrows } from "../../tests/helpers/testing.ts";
import { FprofError, NixError, UsageError } from "../errors.ts";
import { copyFailure, sshArgv, sshFailure, sshOptions } from "./ssh.ts";
import { checkHostSpec, expandHosts } from "./host_names.ts";

const env = (vars: Record<string, string> = {}) => new Map(Object.entries(vars));

Deno.test("checkHostSpec takes [USER@]HOST and refuses what ssh would read as an option", () => {
  for (const ok of ["lab-a", "deploy@lab-a.example.org", "10.0.0.7", "u_1@h"]) {
    assertEquals(checkHostSpec(ok), ok);
  }
  for (const bad of ["-oProxyCommand=x", "a b", "", "@lab", "u@", "h;rm"]) {
    assertThrows(() => checkHostSpec(bad), UsageError, "is not a host");
  }
});

Deno.test("expandHosts replaces @GROUP by the config's hosts, in order, once each", () => {
  const groups = { lab: ["a", "b"], all: ["b", "c"] };
  assertEquals(expandHosts(["@lab", "b", "@all", "d"], groups), ["a", "b", "c", "d"]);
  const e = assertThrows(() => expandHosts(["@nope"], groups), UsageError) as UsageError;
  assertEquals(e.message, "no host group 'nope' in the config");
  assertEquals(e.hint, "known groups: @lab, @all");
  const none = assertThrows(() => expandHosts(["@lab"], {}), UsageError) as UsageError;
  assertOk(none.hint?.includes(`"hosts": { "lab"`));
  // A group named like an object's own property is not one.
  assertThrows(() => expandHosts(["@toString"], groups), UsageError);
});

Deno.test("sshOptions splits NIX_SSHOPTS on blanks, as Nix does", () => {
  assertEquals(sshOptions(env()), []);
  assertEquals(sshOptions(env({ NIX_SSHOPTS: "\t-F /f \n -o  Port=2" })), [
    "-F",
    "/f",
    "-o",
    "Port=2",
  ]);
});

Deno.test("sshArgv quotes the remote command for the login shell and adds no option of its own", () => {
  assertEquals(sshArgv("h", ["echo", "a b", "it's", "$HOME"], env({ NIX_SSHOPTS: "-p 22" })), [
    "ssh",
    "-p",
    "22",
    "--",
    "h",
    `echo 'a b' 'it'\\''s' '$HOME'`,
  ]);
});

Deno.test("sshFailure turns ssh's own failure (255) into one line with a hint", () => {
  const fail = (code: number, stderr: string) =>
    sshFailure("lab-a", new NixError(["ssh", "lab-a"], code, stderr));
  const keys = fail(255, "@@@@\nHost key verification failed.\n");
  assertOk(keys instanceof FprofError && !(keys instanceof NixError));
  assertEquals(keys.message, "cannot reach 'lab-a': Host key verification failed");
  assertOk(keys.hint?.includes("never turns that off"));
  const denied = fail(255, "u@127.0.0.1: Permission denied (publickey).\n") as FprofError;
  assertOk(denied.hint?.includes("your key or ssh-agent"));
  const refused = fail(255, "ssh: connect to host h port 22: Connection refused\n") as FprofError;
  assertOk(refused.hint?.includes("'ssh lab-a true'"));
  const lost = fail(255, "client_loop: send disconnect: Broken pipe\n") as FprofError;
  assertEquals(
    lost.message,
    "lost the connection to 'lab-a' (client_loop: send disconnect: Broken pipe)",
  );
  assertEquals((fail(255, "") as FprofError).message, "lost the connection to 'lab-a'");
  assertOk(lost.hint?.includes("run the command again"));
  // The remote command's own failure stays as it was.
  const remote = new NixError(["ssh"], 1, "error: path '/s/x' is not valid\n");
  assertEquals(sshFailure("lab-a", remote), remote);
});

Deno.test("copyFailure reads Nix's words for a copy cut midway as a lost connection", () => {
  for (
    const stderr of [
      "copying path '/s/a' to 'ssh-ng://h'...\nerror: unexpected end-of-file\n",
      "error: Nix daemon disconnected unexpectedly (maybe it crashed?)\n",
    ]
  ) {
    const e = copyFailure("h", new NixError(["nix", "copy"], 1, stderr)) as FprofError;
    assertOk(e.message.startsWith("lost the connection to 'h' ("), e.message);
    assertOk(e.hint?.includes("run the command again"));
  }
  const other = new NixError(["nix", "copy"], 1, "error: path '/s/x' is not valid\n");
  assertEquals(copyFailure("h", other), other);
});
