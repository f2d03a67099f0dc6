export {}; // a module: top-level await
/**
 * A sign-in flooder in its own process (an attacker is not on the server's event loop):
 * `node --import tsx signin-flooder.ts URL CLIENTS`. Each client sends the next sign-in as soon as it
 * has the answer to the last one (unknown username, wrong password, a fresh client address in
 * X-Forwarded-For each time). Runs until stdin closes, then prints {status: count} as JSON.
 */
const [url, clientsArg] = process.argv.slice(2);
if (!url || !clientsArg) throw new Error('usage: signin-flooder.ts URL CLIENTS');
const counts: Record<string, number> = {};
let running = true;
process.stdin.on('end', () => (running = false));
process.stdin.resume();

async function client(id: number): Promise<void> {
  for (let n = 0; running; n++) {
    const k = id * 100_000 + n;
    const ip = `100.${64 + ((k >> 16) & 63)}.${(k >> 8) & 255}.${k & 255}`;
    try {
      const r = await fetch(`${url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ username: `nobody${k}`, password: 'Winter2026!' }),
      });
      await r.arrayBuffer();
      counts[r.status] = (counts[r.status] ?? 0) + 1;
    } catch {
      counts.error = (counts.error ?? 0) + 1;
    }
  }
}

await Promise.all(Array.from({ length: Number(clientsArg) }, (_, i) => client(i)));
process.stdout.write(JSON.stringify(counts));
