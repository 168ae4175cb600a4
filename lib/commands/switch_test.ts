import { NixError } from "../errors.ts";
import { assertEquals } from "../../tests/helpers/testing.ts";

Deno.test("collectedMeanwhile() knows both ways Nix 2.8 meets a source a collection took", async () => {
  const { collectedMeanwhile } = await import("./switch.ts");
  const e = (stderr: string) => new NixError(["nix", "build"], 1, stderr);
  assertEquals(collectedMeanwhile(e("error: path '/s/x-source' is not valid\n")), true);
  assertEquals(
    collectedMeanwhile(
      e("error: getting status of '/s/x-source': No such file or directory\n"),
    ),
    true,
  );
  assertEquals(collectedMeanwhile(e("error: attribute 'profile' missing\n")), false);
  assertEquals(collectedMeanwhile(new Error("path '/s/x' is not valid")), false);
});
