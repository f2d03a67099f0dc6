import type { Socket } from 'node:net';

/**
 * Join a client connection to its upstream in both directions, as the test proxies do: either
 * side closing closes the other, errors are the other side's business, and both are tracked in
 * `sockets` (so the proxy can cut or close them all) until they close.
 */
export function splice(client: Socket, upstream: Socket, sockets: Set<Socket>): void {
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  }
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}
