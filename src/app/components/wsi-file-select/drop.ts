import type { EngineInput } from '../wsi-bulk-import/wizard-engine.ts';

/**
 * What was dropped on step 1, as selections (one per dropped folder, one for the loose files).
 * Chromium gives file-system handles (stored, re-readable after a reload like the pickers'); where
 * it does not (synthetic drops, other browsers), folders are read through webkitGetAsEntry and files
 * as plain Files (picked again after a reload, like <input> picks).
 */
export type DroppedSelection =
  | { kind: 'handles'; handles: FileSystemFileHandle[] }
  | { kind: 'directory'; dir: FileSystemDirectoryHandle }
  | { kind: 'inputs'; inputs: EngineInput[]; label: string; folder: boolean };

type HandleItem = DataTransferItem & { getAsFileSystemHandle?(): Promise<FileSystemHandle | null> };

interface Taken {
  handle: Promise<FileSystemHandle | null> | undefined;
  entry: FileSystemEntry | null;
  file: File | null;
}

/**
 * Call synchronously inside the drop handler: the items are emptied once it returns, so every
 * handle, entry and file is taken from them before the first await.
 */
export function takeDrop(dt: DataTransfer): () => Promise<DroppedSelection[]> {
  const taken: Taken[] = [...dt.items].filter((i) => i.kind === 'file').map((i) => ({
    handle: handleOf(i as HandleItem),
    entry: i.webkitGetAsEntry?.() ?? null,
    file: i.getAsFile(),
  }));
  if (taken.length === 0) for (const file of dt.files) taken.push({ handle: undefined, entry: null, file });
  return () => selectionsOf(taken);
}

function handleOf(i: HandleItem): Promise<FileSystemHandle | null> | undefined {
  try {
    return i.getAsFileSystemHandle?.().catch(() => null);
  } catch {
    return undefined;
  }
}

async function selectionsOf(taken: Taken[]): Promise<DroppedSelection[]> {
  const out: DroppedSelection[] = [];
  const handles: FileSystemFileHandle[] = [];
  const loose: EngineInput[] = [];
  for (const t of taken) {
    const h = await t.handle;
    if (h?.kind === 'directory') out.push({ kind: 'directory', dir: h as FileSystemDirectoryHandle });
    else if (h?.kind === 'file') handles.push(h as FileSystemFileHandle);
    else if (t.entry?.isDirectory) {
      const dir = t.entry as FileSystemDirectoryEntry;
      const inputs = await walkEntry(dir, dir.name);
      out.push({ kind: 'inputs', inputs, label: dir.name, folder: true });
    } else if (t.file && !t.file.name.startsWith('.')) loose.push({ path: t.file.name, file: t.file });
  }
  if (handles.length) out.unshift({ kind: 'handles', handles });
  if (loose.length) out.unshift({ kind: 'inputs', inputs: loose, label: loose.length === 1 ? loose[0]!.path : `${loose.length} files`, folder: false });
  return out;
}

/** Every file below a dropped folder, paths starting with the folder's name (as <input webkitdirectory> gives them). */
async function walkEntry(dir: FileSystemDirectoryEntry, prefix: string): Promise<EngineInput[]> {
  const out: EngineInput[] = [];
  const reader = dir.createReader();
  for (;;) {
    // readEntries returns the folder in batches (100 in Chromium) until an empty one.
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) {
      if (e.name.startsWith('.')) continue;
      const path = `${prefix}/${e.name}`;
      if (e.isDirectory) out.push(...(await walkEntry(e as FileSystemDirectoryEntry, path)));
      else out.push({ path, file: await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)) });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
