import { parseArgs } from 'node:util';
import { inspect, redact, verify, type Result, type Skipped } from './commands.ts';
import { printInspect, printRedact, printSkipped, printVerify } from './print.ts';
import { BatchKeyError, isValidUidKey } from './batch-key.ts';
import { runUpload } from './upload/command.ts';

const USAGE = `usage:
  wsi-import inspect FILE... [--json]
  wsi-import redact FILE_OR_DIR... --out DIR [--keep-label] [--keep-macro] [--keep FIELD]...
                    [--uid-key HEX] [--allow-incomplete] [--json]
  wsi-import verify FILE_OR_DIR... [--json]
  wsi-import upload FILE_OR_DIR... --server URL --out DIR [--manifest map.csv] [--token-file F]
                    [--direct] [--create-cases] [--barcode-is-case] [--keep-label] [--keep-macro]
                    [--keep FIELD]... [--allow-incomplete] [--json]

redact writes a de-identified copy of each slide into DIR: every identifying field removed and
label/macro images dropped unless kept. --keep takes a field id or label as shown by inspect
(e.g. --keep "aperio:Date"). TIFF/SVS keep their base name; each DICOM slide gets a folder named
after its input directory ("<dir>-1", "<dir>-2"… when it holds several slides). DICOM UIDs are
remapped with one key per batch: --uid-key (at least 32 hex digits), else a key kept in
DIR/.wsi-import-key, so re-running a batch into the same DIR gives the same UIDs. A MIRAX slide is
given as its .mrxs (its folder is found next to it) and written as "<name>.mrxs" + "<name>/"; one
whose Data files are missing is refused unless --allow-incomplete (then what is there is copied).

upload de-identifies like redact (into DIR; --direct sends the originals as they are instead), then
uploads every slide to the server with its API token (--token-file, else the WSI_TOKEN environment
variable; create one on the Account page). A manifest (CSV with columns file or barcode, case,
name) gives each slide its case and display name; a slide's only barcode is proposed as its case
but sent only with --barcode-is-case; --create-cases creates cases the lab does not have yet.
Original file names and barcodes stay on this computer: the server gets neutral file names unless
you --keep upload:file-name. Re-running the same command continues an interrupted batch (the state
is kept in DIR/.wsi-import-state.json): what the server has is not sent again. When the batch ends
its record (JSON, CSV and a printable HTML page) is written into DIR.
Exit status: 0 all succeeded, 1 any failed (the others are still written), 2 usage (upload: also
a token the server refused).`;

class UsageError extends Error {}

/** Runs the CLI; returns the exit code. Output goes to the given writers (testable). */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      (command === undefined ? err : out)(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === 'upload') return await runUpload(rest, { out, err, usage: USAGE, tty: process.stderr.isTTY === true, env: process.env });
    const parsed = parse(rest, command);
    const positionals = parsed.positionals;
    const values = parsed.values as { json?: boolean; out?: string; 'keep-label'?: boolean; 'keep-macro'?: boolean; keep?: string[]; 'uid-key'?: string; 'allow-incomplete'?: boolean };
    if (positionals.length === 0) throw new UsageError(`${command}: no input files`);
    const json = values.json === true;
    let results: Result<unknown>[];
    let skipped: Skipped[];
    if (command === 'inspect') {
      const r = await inspect(positionals);
      ({ results, skipped } = r);
      if (!json) printInspect(r.results, out);
    } else if (command === 'redact') {
      if (typeof values.out !== 'string' || values.out === '') throw new UsageError('redact: --out DIR is required');
      const uidKey = values['uid-key'];
      // The key itself is never echoed, even when it is malformed.
      if (uidKey !== undefined && !isValidUidKey(uidKey)) throw new UsageError('redact: --uid-key must be at least 16 bytes written as hex (32+ hex digits)');
      const progress = !json && process.stderr.isTTY;
      const r = await redact(positionals, {
        out: values.out,
        keepLabel: values['keep-label'] === true,
        keepMacro: values['keep-macro'] === true,
        keep: values.keep ?? [],
        allowIncomplete: values['allow-incomplete'] === true,
        ...(uidKey !== undefined ? { uidKey } : {}),
        ...(progress ? { onProgress: (name: string, d: number, t: number) => err(`\r${name}: ${Math.floor((100 * d) / Math.max(1, t))}%   `) } : {}),
      });
      if (progress) err('\n');
      ({ results, skipped } = r);
      if (!json) printRedact(r.results, out);
    } else {
      const o = await verify(positionals);
      const r = o.results;
      ({ results, skipped } = o);
      if (!json) printVerify(r, out);
      // A readable file that still holds identifying data is a failed verification.
      results = r.map((x) => (x.ok && !x.value.clean ? { ...x, ok: false as const, error: { name: 'SlideError' as const, code: 'VERIFY_FAILED' as const, message: `${x.input}: still holds identifying data` } } : x));
    }
    if (!json) printSkipped(skipped, out);
    const ok = results.every((r) => r.ok);
    if (json) out(`${JSON.stringify({ command, ok, results, skipped }, null, 2)}\n`);
    return ok ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError || e instanceof BatchKeyError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
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
      options: { ...common, out: { type: 'string' }, 'keep-label': { type: 'boolean' }, 'keep-macro': { type: 'boolean' }, keep: { type: 'string', multiple: true }, 'uid-key': { type: 'string' }, 'allow-incomplete': { type: 'boolean' } },
    });
  }
  throw new UsageError(`unknown command "${command}"`);
}
