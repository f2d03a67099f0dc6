import { parseArgs } from 'node:util';
import { inspect, redact, verify, type Result } from './commands.ts';
import { printInspect, printRedact, printVerify } from './print.ts';

const USAGE = `usage:
  wsi-import inspect FILE... [--json]
  wsi-import redact FILE_OR_DIR... --out DIR [--keep-label] [--keep-macro] [--keep FIELD]... [--json]
  wsi-import verify FILE... [--json]

redact writes a de-identified copy of each slide (same base name) into DIR: every identifying
field removed and label/macro images dropped unless kept. --keep takes a field id or label as
shown by inspect (e.g. --keep "aperio:Date"). Exit status: 0 all succeeded, 1 any failed, 2 usage.`;

class UsageError extends Error {}

/** Runs the CLI; returns the exit code. Output goes to the given writers (testable). */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      (command === undefined ? err : out)(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    const parsed = parse(rest, command);
    const positionals = parsed.positionals;
    const values = parsed.values as { json?: boolean; out?: string; 'keep-label'?: boolean; 'keep-macro'?: boolean; keep?: string[] };
    if (positionals.length === 0) throw new UsageError(`${command}: no input files`);
    const json = values.json === true;
    let results: Result<unknown>[];
    if (command === 'inspect') {
      const r = await inspect(positionals);
      results = r;
      if (!json) printInspect(r, out);
    } else if (command === 'redact') {
      if (typeof values.out !== 'string' || values.out === '') throw new UsageError('redact: --out DIR is required');
      const progress = !json && process.stderr.isTTY;
      const r = await redact(positionals, {
        out: values.out,
        keepLabel: values['keep-label'] === true,
        keepMacro: values['keep-macro'] === true,
        keep: values.keep ?? [],
        ...(progress ? { onProgress: (name: string, d: number, t: number) => err(`\r${name}: ${Math.floor((100 * d) / Math.max(1, t))}%   `) } : {}),
      });
      if (progress) err('\n');
      results = r;
      if (!json) printRedact(r, out);
    } else {
      const r = await verify(positionals);
      results = r;
      if (!json) printVerify(r, out);
      // A readable file that still holds identifying data is a failed verification.
      results = r.map((x) => (x.ok && !x.value.clean ? { ...x, ok: false as const, error: { name: 'SlideError' as const, code: 'VERIFY_FAILED' as const, message: `${x.input}: still holds identifying data` } } : x));
    }
    const ok = results.every((r) => r.ok);
    if (json) out(`${JSON.stringify({ command, ok, results }, null, 2)}\n`);
    return ok ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      err(`wsi-import: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

function parse(args: string[], command: string) {
  const common = { json: { type: 'boolean' as const } };
  if (command === 'inspect' || command === 'verify') return parseArgs({ args, options: common, allowPositionals: true, strict: true });
  if (command === 'redact') {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...common, out: { type: 'string' }, 'keep-label': { type: 'boolean' }, 'keep-macro': { type: 'boolean' }, keep: { type: 'string', multiple: true } },
    });
  }
  throw new UsageError(`unknown command "${command}"`);
}
