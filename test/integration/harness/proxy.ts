/**
 * A TCP relay between dirbridge and a directory, for fault tests: it can cut every connection once
 * the server has sent a given number of bytes (a server going away in the middle of a step), and
 * refuse connections until restored (by the test, or by itself after a while: a short outage).
 */
import { createServer, connect, type Socket } from 'node:net';
import { freePort } from './process.js';

export interface FaultProxy {
  url: string;
  /**
   * Cut all connections once the server has sent this many more bytes; refuse new ones until
   * restore(), or for `downForMs` only.
   */
  cutAfter(bytes: number, downForMs?: number): void;
  restore(): void;
  /** Whether the last cutAfter() fired. */
  cut(): boolean;
  stop(): Promise<void>;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let budget = Number.POSITIVE_INFINITY;
  let down = false;
  let fired = false;
  let outage: number | undefined;
  const goDown = (): void => {
    down = true;
    fired = true;
    for (const s of open) s.destroy();
    open.clear();
    if (outage !== undefined) setTimeout(restore, outage);
  };
  const restore = (): void => {
    down = false;
    budget = Number.POSITIVE_INFINITY;
  };
  const server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    client.on('data', (b) => upstream.write(b));
    upstream.on('data', (b: Buffer) => {
      if (down) return;
      if (b.length >= budget) {
        client.write(b.subarray(0, budget));
        budget = 0;
        return goDown();
      }
      budget -= b.length;
      client.write(b);
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `ldap://127.0.0.1:${port}`,
    cutAfter(bytes, downForMs) {
      budget = bytes;
      fired = false;
      outage = downForMs;
    },
    restore,
    cut: () => fired,
    stop: () => {
      outage = undefined;
      goDown();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
