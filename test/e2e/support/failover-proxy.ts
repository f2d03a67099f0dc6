import { createServer, connect, type Server, type Socket } from 'node:net';
import { splice } from './tcp-splice.ts';

/**
 * A loopback TCP load balancer in front of several server instances, as a hospital's proxy would
 * be: each new connection goes to the first backend that accepts it, in order. When an instance
 * dies its connections break (in-flight requests fail as on a real crash) and the next connections
 * reach the next instance. `connections` counts where they went.
 */
export interface FailoverProxy {
  url: string;
  /** Connections accepted per backend port. */
  connections: Map<number, number>;
  close(): Promise<void>;
}

export async function startFailoverProxy(backendPorts: number[]): Promise<FailoverProxy> {
  const sockets = new Set<Socket>();
  const connections = new Map<number, number>(backendPorts.map((p) => [p, 0]));

  /** Connect to the first backend that accepts, or undefined when none does. */
  const pick = async (): Promise<{ socket: Socket; port: number } | undefined> => {
    for (const port of backendPorts) {
      const socket = await new Promise<Socket | undefined>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', () => {
          s.destroy();
          resolve(undefined);
        });
      });
      if (socket) return { socket, port };
    }
    return undefined;
  };

  const server: Server = createServer((client) => {
    client.pause();
    client.on('error', () => undefined);
    void pick().then((up) => {
      if (!up || client.destroyed) {
        up?.socket.destroy();
        client.destroy();
        return;
      }
      connections.set(up.port, (connections.get(up.port) ?? 0) + 1);
      splice(client, up.socket, sockets);
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
