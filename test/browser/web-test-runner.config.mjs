// Browser tests in Debian's Chromium. Each requested .ts file is bundled with esbuild, because the
// UMD packages (dicom-parser, openseadragon) do not import file by file (see STACK-NOTES).
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter } from '@web/test-runner';
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { countReporter } from '../support/wtr-count-reporter.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

const bundleTs = {
  name: 'bundle-ts',
  async serve(context) {
    if (!context.path.endsWith('.ts')) return undefined;
    const entry = join(root, decodeURIComponent(context.path));
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      sourcemap: 'inline',
      outdir: join(root, 'test-output/wtr'),
      define: { 'process.env.NODE_ENV': '"development"' },
      logLevel: 'silent',
    });
    return { body: result.outputFiles[0].text, type: 'js' };
  },
};

export default {
  rootDir: root,
  files: [process.env.WSI_BROWSER_FILES ?? 'test/browser/**/*.test.ts'],
  nodeResolve: false,
  concurrency: 1,
  concurrentBrowsers: 1,
  testsFinishTimeout: 10 * 60 * 1000,
  testFramework: { config: { timeout: 5 * 60 * 1000 } },
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
      },
    }),
  ],
  plugins: [bundleTs],
  reporters: [defaultReporter(), countReporter(process.env.WSI_WTR_COUNTS)],
};
