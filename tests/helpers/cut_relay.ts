/**
 * An ssh `ProxyCommand` that drops the connection on purpose: it relays
 * standard input and output to a TCP port and, once the bytes relayed reach a
 * limit, closes both sides at once, the way a network that goes away
 * mid-transfer does.
 *
 *     deno run --allow-read=LIMIT_FILE,COUNT_DIR --allow-write=COUNT_DIR \
 *       --allow-net=127.0.0.1 cut_relay.ts HOST PORT LIMIT_FILE COUNT_DIR
 *
 * - `LIMIT_FILE` holds the limit in bytes; a missing or empty file means no
 *   limit. It is a budget for all the connections that `COUNT_DIR` records:
 *   each connection starts with the limit less what the connections before
 *   it relayed, so that a limit taken as a fraction of a whole operation cuts
 *   it at the same point however many connections it opens one after the
 *   other.
 * - `COUNT_DIR` receives one file per connection, `<start ms>-<pid>`, that
 *   always holds the number of bytes relayed so far, both directions
 *   together. It is written before the bytes are passed on, so when ssh has
 *   seen a byte, the count includes it (ssh kills its proxy command when it
 *   exits, so a count written at exit could be lost).
 *
 * remote_host.ts sets it up as the `<host>-flaky` alias of a fleet.
 *
 * @module
 */

const [host, port, limitFile, countDir] = Deno.args;
if (!host || !port || !limitFile || !countDir) {
  console.error("usage: cut_relay.ts HOST PORT LIMIT_FILE COUNT_DIR");
  Deno.exit(2);
}

const limit = readLimit(limitFile) - relayedBefore(countDir);
const countFile = `${countDir}/${Date.now()}-${Deno.pid}`;
let relayed = 0;
record();

const conn = await Deno.connect({ hostname: host, port: Number(port) });

/** Reads from `read` and writes to `write` until EOF, or the limit cuts the connection. */
async function pump(
  read: (buf: Uint8Array) => Promise<number | null>,
  write: (bytes: Uint8Array) => Promise<number>,
): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  while (true) {
    const n = await read(buf);
    if (n === null) return;
    const allowed = Math.min(n, limit - relayed);
    relayed += allowed;
    record();
    let done = 0;
    while (done < allowed) done += await write(buf.subarray(done, allowed));
    if (relayed >= limit) {
      // Both sides at once: the server sees its socket close, ssh its proxy exit.
      conn.close();
      Deno.exit(0);
    }
  }
}

const up = pump((b) => Deno.stdin.read(b), (b) => conn.write(b)).then(() =>
  // ssh has nothing more to say; let the server finish its side.
  conn.closeWrite()
);
await pump((b) => conn.read(b), (b) => Deno.stdout.write(b));
// The server closed the connection: nothing more can reach ssh.
up.catch(() => {});
Deno.exit(0);

function readLimit(file: string): number {
  let text = "";
  try {
    text = Deno.readTextFileSync(file).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (text === "") return Infinity;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Cannot read a byte limit from '${file}'`);
  return n;
}

/** What the connections recorded in `dir` so far relayed. */
function relayedBefore(dir: string): number {
  let sum = 0;
  for (const entry of Deno.readDirSync(dir)) {
    sum += Number(Deno.readTextFileSync(`${dir}/${entry.name}`).trim() || "0");
  }
  return sum;
}

function record(): void {
  Deno.writeTextFileSync(countFile, `${relayed}\n`);
}
