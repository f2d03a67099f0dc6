import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteSink, ByteSource } from '../engine/io/byte-source.ts';
import type { OutputTarget } from '../engine/redact/redact.ts';
import { SlideError } from '../shared/errors.ts';
import { fingerprint } from './batch-key.ts';

/**
 * Which input owns which output name in an output folder, kept across runs so that a retry of a
 * batch writes to the same names (and may replace them) while a different input with the same
 * base name never silently overwrites them. Owners are keyed fingerprints, never paths.
 */
export const MANIFEST_FILE = '.wsi-import-outputs.json';

interface Manifest {
  version: 1;
  /** Output name (file or folder) -> owner fingerprint. */
  outputs: Record<string, string>;
}

export type OutputKind = 'file' | 'folder';

export class OutputNames {
  private readonly claimed = new Set<string>();

  private constructor(private readonly dir: string, private readonly secret: string, private readonly manifest: Manifest) {}

  static async load(dir: string, secret: string): Promise<OutputNames> {
    const text = await readFile(join(dir, MANIFEST_FILE), 'utf8').catch(() => undefined);
    let manifest: Manifest = { version: 1, outputs: {} };
    try {
      const parsed = text === undefined ? undefined : (JSON.parse(text) as Partial<Manifest>);
      if (parsed?.version === 1 && parsed.outputs && typeof parsed.outputs === 'object') manifest = { version: 1, outputs: { ...parsed.outputs } };
    } catch {
      // Unreadable record: every existing output then counts as someone else's (the safe side).
    }
    return new OutputNames(dir, secret, manifest);
  }

  /**
   * The name this input writes to. A retry gets the name it had before. Otherwise a file keeps
   * its preferred name or fails with CONFLICT; a folder takes the first free of name, name-2, …
   * ("free" = not taken in this run, not owned by another input, not already on disk).
   */
  async claim(preferred: string, identity: string, kind: OutputKind): Promise<{ name: string; reused: boolean }> {
    const owner = fingerprint(this.secret, identity);
    const ours = (n: string) => (kind === 'file' ? n === preferred : n === preferred || (n.startsWith(`${preferred}-`) && /^\d+$/.test(n.slice(preferred.length + 1))));
    const previous = Object.entries(this.manifest.outputs).find(([n, o]) => o === owner && ours(n) && !this.claimed.has(n))?.[0];
    if (previous !== undefined) {
      this.claimed.add(previous);
      return { name: previous, reused: true };
    }
    for (let n = 1; ; n++) {
      const name = n === 1 ? preferred : `${preferred}-${n}`;
      const onDisk = await stat(join(this.dir, name)).then(() => true, () => false);
      if (!this.claimed.has(name) && !(name in this.manifest.outputs) && !onDisk) {
        this.claimed.add(name);
        return { name, reused: false };
      }
      if (kind === 'file') {
        throw new SlideError('CONFLICT', `${preferred}: the output folder already holds a file of this name from another input; not overwritten (rename one of them or use another --out)`);
      }
    }
  }

  /** Record a successful output so the next run of the same input reuses the name. */
  async record(name: string, identity: string): Promise<void> {
    this.manifest.outputs[name] = fingerprint(this.secret, identity);
    const path = join(this.dir, MANIFEST_FILE);
    // Written whole then renamed: a crash leaves the old record, never half of one.
    await writeFile(`${path}.tmp`, `${JSON.stringify(this.manifest, null, 1)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
}

/**
 * Instances left in a reused slide folder by an earlier run of the same input (e.g. a label kept
 * then) must not survive beside the new outputs.
 */
export async function clearSlideFolder(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isFile() && e.name.toLowerCase().endsWith('.dcm')) await rm(join(dir, e.name), { force: true });
}

/**
 * The engine names a slide's outputs after the slide (DICOM: '<level-0 file stem>/level-0.dcm');
 * this target writes them under the name the CLI chose instead, and refuses any output outside it
 * so one slide can never write over another's files.
 */
export class RenamingTarget implements OutputTarget {
  constructor(private readonly inner: OutputTarget, private readonly from: string, readonly to: string) {}

  rename(name: string): string {
    if (name === this.from) return this.to;
    if (name === `${this.from}.mrxs`) return `${this.to}.mrxs`; // MIRAX: the .mrxs beside its folder
    if (name.startsWith(`${this.from}/`)) return `${this.to}${name.slice(this.from.length)}`;
    throw new SlideError('INTERNAL', `output "${name}" lies outside the slide's output name`);
  }

  createSink(name: string): Promise<ByteSink> {
    return this.inner.createSink(this.rename(name));
  }

  openSource(name: string): Promise<ByteSource> {
    return this.inner.openSource(this.rename(name));
  }

  async remove(name: string): Promise<void> {
    await this.inner.remove?.(this.rename(name));
  }

  async closeSource(source: ByteSource): Promise<void> {
    await this.inner.closeSource?.(source);
  }
}
