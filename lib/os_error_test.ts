import { assertEquals } from "../tests/helpers/testing.ts";
import { osErrorReport, SIGPIPE_STATUS } from "./os_error.ts";

Deno.test("osErrorReport() exits quietly on a closed pipe", () => {
  assertEquals(osErrorReport(new Deno.errors.BrokenPipe("Broken pipe (os error 32)")), {
    message: null,
    exitCode: SIGPIPE_STATUS,
  });
});

Deno.test("osErrorReport() keeps the system's words and the path, with a hint", () => {
  assertEquals(
    osErrorReport(new Deno.errors.PermissionDenied("Permission denied (os error 13): open '/a'")),
    {
      message: "permission denied (os error 13): open '/a'",
      hint: "check the permissions of that file or directory",
      exitCode: 1,
    },
  );
  assertEquals(osErrorReport(new Error("No space left on device (os error 28)"))?.exitCode, 1);
});

Deno.test("osErrorReport() leaves other errors alone", () => {
  assertEquals(osErrorReport(new TypeError("x is undefined")), null);
  assertEquals(osErrorReport("text"), null);
});
