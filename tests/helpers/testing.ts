/**
 * Tiny assertion helpers for the tests (jsr:@std/assert is not reachable from
 * our machines; node:assert covers the rest).
 *
 * @module
 */

import assert from "node:assert/strict";

/** Deep, strict equality. */
export function assertEquals<T>(
  actual: T,
  expected: T,
  message?: string,
): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** A truthy value. */
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}

/** `text` contains `part`. */
export function assertStringIncludes(
  text: string,
  part: string,
  message?: string,
): void {
  if (!text.includes(part)) {
    throw new assert.AssertionError({
      message: message ??
        `expected to find ${JSON.stringify(part)} in:\n${text}`,
      actual: text,
      expected: part,
    });
  }
}

/** `fn` throws an instance of `cls` whose message includes `includes`. */
export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  cls: abstract new (...args: any[]) => Error,
  includes?: string,
): Error {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof cls)) {
      throw new assert.AssertionError({
        message: `expected ${cls.name}, got ${e}`,
      });
    }
    if (includes && !e.message.includes(includes)) {
      throw new assert.AssertionError({
        message: `expected message to include '${includes}', got '${e.message}'`,
      });
    }
    return e;
  }
  throw new assert.AssertionError({
    message: `expected ${cls.name} to be thrown`,
  });
}

/** Async variant of {@link assertThrows}. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  cls: abstract new (...args: any[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) {
      throw new assert.AssertionError({
        message: `expected ${cls.name}, got ${e}`,
      });
    }
    if (includes && !e.message.includes(includes)) {
      throw new assert.AssertionError({
        message: `expected message to include '${includes}', got '${e.message}'`,
      });
    }
    return e;
  }
  throw new assert.AssertionError({
    message: `expected ${cls.name} to be rejected`,
  });
}
