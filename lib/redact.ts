/**
 * Keeps secrets out of what fprof prints: Nix quotes a configuration line it
 * cannot read whole, and an `access-tokens` line holds tokens.
 *
 * @module
 */

/** `access-tokens`, its separator, and the value up to a quote or the line's end. */
const ACCESS_TOKENS = /(access-tokens\b[ \t]*=?[ \t]*)([^'"\n\r]*)/g;

/**
 * `text` with the value of every `access-tokens` setting it quotes replaced
 * by `<redacted>`, keeping the host of each `HOST=TOKEN`; pure.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "./redact.ts";
 * redactSecrets("error: illegal configuration line 'access-tokens github.com=ghp_x'");
 * // "error: illegal configuration line 'access-tokens github.com=<redacted>'"
 * ```
 */
export function redactSecrets(text: string): string {
  if (!text.includes("access-tokens")) return text;
  return text.replace(
    ACCESS_TOKENS,
    (_, head: string, value: string) =>
      head + value.replace(/\S+/g, (word) => {
        const eq = word.indexOf("=");
        return eq > 0 ? `${word.slice(0, eq)}=<redacted>` : "<redacted>";
      }),
  );
}
