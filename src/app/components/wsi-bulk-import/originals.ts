import type { SourceEntry, SourceRecord } from '../../state/batch-store.ts';
import { SlideError } from '../../../shared/errors.ts';
import { handlePermission, walkDirectory } from '../wsi-file-select/pick-files.ts';
import type { EngineInput } from './wizard-engine.ts';
import { rememberPath } from './file-paths.ts';

import { ORIGINALS_NEEDED } from '../../../upload/originals-needed.ts';

export { ORIGINALS_NEEDED, isOriginalsNeeded } from '../../../upload/originals-needed.ts';

/** Outcome of matching a second <input> pick against what was picked before the reload. */
export interface ReselectResult {
  matched: number;
  /** Same path but a different size or date: refused. */
  different: string[];
  /** Not among the picked files. */
  missing: string[];
}

/**
 * Where the original files of each selection are, now. In this page's lifetime the picked Files
 * are kept in memory; after a reload they come back through stored handles (after a click grants
 * permission again) or through a second <input> pick matched by path, size and lastModified.
 * A file whose size or date differs from what was picked is never taken for it.
 */
export class Originals {
  /** sourceId → path → File, for this page's lifetime. */
  private readonly live = new Map<string, Map<string, File>>();

  remember(sourceId: string, inputs: EngineInput[]): void {
    const m = this.live.get(sourceId) ?? new Map<string, File>();
    for (const i of inputs) {
      m.set(i.path, i.file);
      rememberPath(i.file, i.path);
    }
    this.live.set(sourceId, m);
  }

  /** The selection's Files in memory (path → File), if any: the duplicate check compares with them. */
  known(sourceId: string): ReadonlyMap<string, File> | undefined {
    return this.live.get(sourceId);
  }

  forget(sourceId?: string): void {
    if (sourceId === undefined) this.live.clear();
    else this.live.delete(sourceId);
  }

  /** Whether `paths` of the source can be read without asking the user anything. */
  async available(source: SourceRecord, paths: string[]): Promise<boolean> {
    const m = this.live.get(source.id);
    if (paths.every((p) => m?.has(p))) return true;
    if (source.origin === 'input') return false;
    const handles: FileSystemHandle[] = source.dir ? [source.dir] : (source.handles ?? []);
    if (handles.length === 0) return false;
    for (const h of handles) if ((await handlePermission(h, false)) !== 'granted') return false;
    return true;
  }

  /**
   * Ask again for read permission on a selection's handles. Must run inside a click handler
   * (requestPermission needs a user gesture). Returns true when every handle is readable.
   */
  async reconnect(source: SourceRecord): Promise<boolean> {
    const handles: FileSystemHandle[] = source.dir ? [source.dir] : (source.handles ?? []);
    if (handles.length === 0) return false;
    for (const h of handles) if ((await handlePermission(h, true)) !== 'granted') return false;
    return true;
  }

  /** The Files at `paths` of a selection, checked against what was picked. */
  async files(source: SourceRecord, paths: string[], what: string): Promise<File[]> {
    let m = this.live.get(source.id);
    if (!paths.every((p) => m?.has(p))) {
      if (!(await this.available(source, paths))) {
        const how = source.origin === 'input' ? 'select them again' : 'press "Reconnect files"';
        throw new SlideError('NOT_FOUND', `${what}: the original files of "${source.label}" are not readable since the page was reloaded — ${how}`, { detail: ORIGINALS_NEEDED });
      }
      const inputs = await this.readHandles(source);
      this.remember(source.id, inputs);
      m = this.live.get(source.id)!;
    }
    const entries = new Map(source.entries.map((e) => [e.path, e]));
    return paths.map((p) => {
      const f = m!.get(p);
      if (!f) throw new SlideError('NOT_FOUND', `${what}: ${p} is no longer in "${source.label}"`);
      const e = entries.get(p);
      if (e && !sameFile(f, e)) {
        throw new SlideError('CONFLICT', `${what}: ${p} has changed since it was selected (size or date differs) — it is not used; select the original file`);
      }
      return f;
    });
  }

  /**
   * A second <input> pick after a reload: keep the picked files that are the ones picked before
   * (same path — or name, when the first pick had no folder — size and lastModified).
   */
  reselect(source: SourceRecord, picked: EngineInput[]): ReselectResult {
    const byPath = new Map(picked.map((i) => [i.path, i.file]));
    const byName = new Map(picked.map((i) => [i.file.name, i.file]));
    const ok: EngineInput[] = [];
    const different: string[] = [];
    const missing: string[] = [];
    for (const e of source.entries) {
      // A folder picked again may sit under another parent name: compare below the top folder.
      const f = byPath.get(e.path) ?? (source.folder ? findBelowTop(picked, e.path) : byName.get(e.path));
      if (!f) missing.push(e.path);
      else if (!sameFile(f, e)) different.push(e.path);
      else ok.push({ path: e.path, file: f });
    }
    this.remember(source.id, ok);
    return { matched: ok.length, different, missing };
  }

  private async readHandles(source: SourceRecord): Promise<EngineInput[]> {
    if (source.dir) return walkDirectory(source.dir);
    const out: EngineInput[] = [];
    const handles = source.handles ?? [];
    for (let i = 0; i < handles.length; i++) out.push({ path: source.entries[i]?.path ?? handles[i].name, file: await handles[i].getFile() });
    return out;
  }
}

function sameFile(f: File, e: SourceEntry): boolean {
  return f.size === e.size && f.lastModified === e.lastModified;
}

function findBelowTop(picked: EngineInput[], path: string): File | undefined {
  const rest = path.slice(path.indexOf('/') + 1);
  return picked.find((i) => i.path.slice(i.path.indexOf('/') + 1) === rest)?.file;
}
