import { assertEquals } from "../../tests/helpers/testing.ts";
import { packagesFromReferences, planGeneration } from "./generation.ts";

const S = "/nix/store";
const p = (hash: string, name: string) => `${S}/${hash.padEnd(32, hash)}-${name}`;

Deno.test("packagesFromReferences() groups outputs, skips the env and its manifest, keeps same-name builds apart", () => {
  const env = p("z", "profile");
  const refs = [
    env,
    p("a", "hello-2.12"),
    p("b", "hello-2.12-man"),
    p("c", "jq-1.6"),
    p("d", "env-manifest.nix"),
    p("f", "jq-1.6"),
    p("g", "tool"),
  ];
  const pkgs = packagesFromReferences(env, refs);
  assertEquals(
    pkgs.map((x) => [x.name, x.version, x.outputs, x.storePaths.length]),
    [
      ["hello", "2.12", ["out", "man"], 2],
      ["jq", "1.6", ["out"], 1],
      ["jq", "1.6", ["out"], 1],
      ["tool", "", ["out"], 1],
    ],
  );
});

Deno.test("planGeneration() links manifest.nix to its own store path and is deterministic", async () => {
  const env = p("z", "profile");
  const pkgs = packagesFromReferences(env, [p("a", "hello-2.12")]);
  const args = {
    envPath: env,
    entries: ["bin", "manifest.nix", "share"],
    packages: pkgs,
    manifest: "nix" as const,
    jsonVersion: 2 as const,
    jsonPriorityAndOutputs: false,
    storeDir: S,
  };
  const plan = await planGeneration(args);
  assertEquals(plan.paths.length, 2);
  const [file, gen] = plan.paths;
  assertEquals(file.storePath.endsWith("-env-manifest.nix"), true);
  assertEquals(file.references, [p("a", "hello-2.12")]);
  assertEquals(gen.storePath, plan.storePath);
  assertEquals(gen.references, [env, file.storePath].sort());
  assertEquals((await planGeneration(args)).storePath, plan.storePath);
  // A different manifest kind is a different generation; none is the env itself.
  const json = await planGeneration({ ...args, manifest: "json" });
  assertEquals([json.paths.length, json.storePath.endsWith("-profile")], [1, true]);
  assertEquals(await planGeneration({ ...args, manifest: "none" }), {
    storePath: env,
    paths: [],
    manifest: "none",
  });
});
