/**
 * The `process` object as commander uses it: writing help and errors,
 * terminal width, colour settings from the environment, and exiting.
 *
 * @module
 */

import { unsupported } from "./mod.ts";

const encoder = new TextEncoder();

/** An output stream with what commander reads of Node's. */
function stream(file: typeof Deno.stdout) {
  return {
    /**
     * Writes all of `text`. A reader that went away (`fprof --help | head`)
     * ends the output quietly, as it does with Node's streams, which report
     * it as an event nobody listens to.
     */
    write(text: string | Uint8Array): boolean {
      const bytes = typeof text === "string" ? encoder.encode(text) : text;
      try {
        let off = 0;
        while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
      } catch (e) {
        if (e instanceof Deno.errors.BrokenPipe) return false;
        throw e;
      }
      return true;
    },
    get isTTY(): boolean {
      return file.isTerminal();
    },
    get columns(): number | undefined {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return undefined;
      }
    },
    hasColors(): boolean {
      return file.isTerminal() && readEnv("TERM") !== "dumb";
    },
  };
}

/**
 * An environment variable, or undefined when it is unset or the program may
 * not read it: the shipped program is allowed only the variables it names
 * (scripts/build.ts), and commander also asks about others.
 */
function readEnv(key: string): string | undefined {
  try {
    return Deno.env.get(key);
  } catch {
    return undefined;
  }
}

/** `process.env`, read-only, one variable at a time. */
const env = new Proxy({} as Record<string, string | undefined>, {
  get: (_target, key) => typeof key === "string" ? readEnv(key) : undefined,
  has: (_target, key) => typeof key === "string" && readEnv(key) !== undefined,
});

const process = {
  get argv(): string[] {
    return [Deno.execPath(), new URL(Deno.mainModule).pathname, ...Deno.args];
  },
  env,
  execArgv: [] as string[],
  get execPath(): string {
    return Deno.execPath();
  },
  versions: {} as Record<string, string>,
  platform: Deno.build.os === "windows" ? "win32" : Deno.build.os,
  exitCode: undefined as number | undefined,
  stdout: stream(Deno.stdout),
  stderr: stream(Deno.stderr),
  exit(code?: number): never {
    Deno.exit(code ?? process.exitCode ?? 0);
  },
  on(): never {
    throw unsupported("process.on");
  },
};

export default process;
