import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of the server that counts the body bytes of every PATCH request
 * it forwards (tus data), across all connections — the "sent twice?" measure: after a batch the
 * count must equal the sum of the part sizes. When a client dies mid-request (kill -9) the bytes
 * it already sent are still delivered (the upstream side is half-closed, not reset), as a real
 * network would have delivered them, so the server keeps what it was sent.
 */
export interface CountingProxy {
  url: string;
  patchBytes(): number;
  /** Every request's head (request line and headers), to check what was sent. */
  heads(): string[];
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  let patchBytes = 0;
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    // A tiny HTTP/1.1 request parser: headers, then Content-Length body bytes (tus-js-client sends no chunked bodies).
    let head = Buffer.alloc(0);
    let bodyLeft = 0;
    let isPatch = false;
    client.on('data', (d: Buffer) => {
      let buf = d;
      while (buf.length > 0) {
        if (bodyLeft > 0) {
          const n = Math.min(bodyLeft, buf.length);
          if (isPatch) patchBytes += n;
          bodyLeft -= n;
          buf = buf.subarray(n);
          continue;
        }
        head = Buffer.concat([head, buf]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) break;
        const text = head.subarray(0, end).toString('latin1');
        heads.push(text);
        isPatch = text.startsWith('PATCH ');
        bodyLeft = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
        buf = head.subarray(end + 4);
        head = Buffer.alloc(0);
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    // Half-close: what the client sent reaches the server, then the server sees the request end early.
    client.on('close', () => {
      upstream.end();
      setTimeout(() => upstream.destroy(), 2000).unref();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    patchBytes: () => patchBytes,
    heads: () => heads,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
