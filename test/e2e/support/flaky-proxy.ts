import { createServer, connect, type Server, type Socket } from 'node:net';
import { splice } from './tcp-splice.ts';

/**
 * A loopback TCP proxy in front of the server that can drop the connection: `cut(ms)` destroys every
 * open connection (in-flight requests die as on a real network failure) and refuses new ones for a
 * while. Chromium's emulated "offline" only affects new requests, so it cannot test this.
 */
export interface FlakyProxy {
  url: string;
  cut(ms: number): void;
  close(): Promise<void>;
}

export async function startFlakyProxy(targetPort: number): Promise<FlakyProxy> {
  const sockets = new Set<Socket>();
  let downUntil = 0;
  const server: Server = createServer((client) => {
    if (Date.now() < downUntil) {
      client.destroy();
      return;
    }
    splice(client, connect(targetPort, '127.0.0.1'), sockets);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cut(ms) {
      downUntil = Date.now() + ms;
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
