/**
 * `EventEmitter` as commander uses it: `on`, `emit` and `listenerCount`.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => unknown;

/** Calls listeners synchronously, in the order they were added, as Node's does. */
export class EventEmitter {
  #listeners = new Map<string | symbol, Listener[]>();

  /** Adds a listener for `event`. */
  on(event: string | symbol, listener: Listener): this {
    const list = this.#listeners.get(event);
    if (list) list.push(listener);
    else this.#listeners.set(event, [listener]);
    return this;
  }

  /** Same as {@link on}. */
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Calls every listener of `event` with `args`; whether there was one. */
  // deno-lint-ignore no-explicit-any
  emit(event: string | symbol, ...args: any[]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) {
      if (event === "error") throw args[0] instanceof Error ? args[0] : new Error(String(args[0]));
      return false;
    }
    for (const listener of [...list]) listener.apply(this, args);
    return true;
  }

  /** How many listeners `event` has. */
  listenerCount(event: string | symbol): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** The listeners of `event`, in order. */
  listeners(event: string | symbol): Listener[] {
    return [...(this.#listeners.get(event) ?? [])];
  }
}

export default { EventEmitter };
