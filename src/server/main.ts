import { loadConfig } from './config.ts';
import { buildApp, type BuiltApp } from './app.ts';
import { toSlideError } from '../shared/errors.ts';

/** `npm start`: read the environment, start, print first-start credentials once, stop cleanly on signals. */
async function main(): Promise<void> {
  const config = loadConfig();
  let built: BuiltApp | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    // Uploads in flight are resumable, so a bounded wait is enough.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    (built ? built.close() : Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // Installed before anything is printed: whoever reads "listening" may signal us right away.
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  built = await buildApp(config);
  if (stopping) return;
  const address = await built.app.listen({ port: config.port, host: config.host });
  const url = address.replace('://[::1]', '://localhost').replace('://0.0.0.0', '://localhost');
  if (built.firstAdmin) {
    const lines = ['', 'WSI Bulk Import: first start, created lab "Demo Lab" and its admin.', `  URL:      ${url}/`, `  Username: ${built.firstAdmin.username}`];
    lines.push(built.firstAdmin.generatedPassword ? `  Password: ${built.firstAdmin.generatedPassword}   (generated; shown only this once)` : '  Password: the one given in WSI_ADMIN_PASSWORD');
    console.log(`${lines.join('\n')}\n`);
  } else {
    console.log(`WSI Bulk Import listening on ${url}/`);
  }
}

main().catch((e: unknown) => {
  const err = toSlideError(e);
  console.error(`WSI Bulk Import could not start: ${err.message}`);
  process.exit(1);
});
