import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import { FprofError } from "../errors.ts";
import { planWhich, type WhichFacts, whichText } from "./which.ts";

const hello = { name: "hello", version: "1.0", storePath: "/s/a-hello-1.0" };
const alt = { name: "hello-alt", version: "1.0", storePath: "/s/b-hello-alt-1.0" };
const facts: WhichFacts = {
  command: "hello",
  profile: "/p/profile",
  generation: { number: 3, link: "/p/profile-3-link", storePath: "/s/g", date: new Date(0) },
  inProfile: true,
  providers: [hello, alt],
  linked: alt.storePath,
  runs: "/usr/bin/hello",
  runsProfile: false,
  onPath: true,
};

Deno.test("planWhich() puts the linked package first and the others after", () => {
  const w = planWhich(facts);
  assertEquals([w.provider, w.others], [alt, [hello]]);
  assertEquals(whichText(w).split("\n"), [
    "provides  hello-alt 1.0  /s/b-hello-alt-1.0/bin/hello",
    "also      hello 1.0  /s/a-hello-1.0/bin/hello (not linked)",
    "runs      /usr/bin/hello (not the profile's: /usr/bin comes first on PATH)",
    "",
  ]);
});

Deno.test("planWhich() refuses a command the generation lacks, naming what PATH runs", () => {
  const e = assertThrows(
    () => planWhich({ ...facts, inProfile: false, providers: [] }),
    FprofError,
    "'hello' is not a command of '/p/profile' (generation 3)",
  ) as FprofError;
  assertEquals(e.hint?.startsWith("PATH runs /usr/bin/hello, from outside the profile"), true);
});

Deno.test("whichText() says when the profile is not on PATH", () => {
  const w = planWhich({ ...facts, providers: [hello], linked: hello.storePath, onPath: false });
  assertEquals(
    whichText(w).split("\n")[1],
    "runs      /usr/bin/hello (not the profile's: the profile is not on PATH)",
  );
});
