/**
 * A one-line spinner for long steps that print nothing, such as a build that
 * is still evaluating. It is drawn on a terminal only: off one, fprof's status
 * lines are all the user gets, so logs stay clean.
 *
 * @module
 */

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** How often the spinner turns, in milliseconds. */
export const SPINNER_INTERVAL_MS = 100;

/**
 * The text of frame `i`: `\r⠙ building .#profile (3s)` and an erase to the
 * end of the line, so that a shorter frame leaves nothing behind. Pure.
 *
 * @example
 * ```ts
 * import { spinnerFrame } from "./spinner.ts";
 * spinnerFrame(0, "building .#profile", 0); // "\r⠋ building .#profile\x1b[K"
 * ```
 */
export function spinnerFrame(i: number, message: string, elapsedMs: number): string {
  const secs = Math.floor(elapsedMs / 1000);
  const time = secs >= 2 ? ` (${secs}s)` : "";
  return `\r${FRAMES[i % FRAMES.length]} ${message}${time}\x1b[K`;
}

/** A running spinner; it redraws itself until {@link Spinner.stop}. */
export class Spinner {
  #write: (text: string) => void;
  #message: string;
  #frame = 0;
  #started = Date.now();
  #timer: ReturnType<typeof setInterval>;
  #shown = false;

  constructor(write: (text: string) => void, message: string) {
    this.#write = write;
    this.#message = message;
    this.#timer = setInterval(() => this.#draw(), SPINNER_INTERVAL_MS);
    // A forgotten spinner must not keep fprof from exiting.
    this.#timer.unref();
  }

  #draw() {
    this.#write(spinnerFrame(this.#frame++, this.#message, Date.now() - this.#started));
    this.#shown = true;
  }

  /** Erases the spinner's line so other output can be written; it comes back at the next tick. */
  clear(): void {
    if (this.#shown) this.#write("\r\x1b[K");
    this.#shown = false;
  }

  /** Stops the spinner and erases its line. */
  stop(): void {
    clearInterval(this.#timer);
    this.clear();
  }
}
