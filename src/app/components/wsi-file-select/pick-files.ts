import type { SourceRecord } from '../../state/batch-store.ts';
import type { EngineInput } from '../wsi-bulk-import/wizard-engine.ts';

/**
 * The File System Access API is typed only partly in lib.dom: declare the pieces used here.
 * Chromium has them; other browsers fall back to <input webkitdirectory>.
 */
interface PermissionHandle {
  queryPermission?(d: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(d: { mode: 'read' }): Promise<PermissionState>;
}
type DirPicker = (o?: { mode?: 'read'; id?: string }) => Promise<FileSystemDirectoryHandle>;
type IterableDir = FileSystemDirectoryHandle & { values(): AsyncIterable<FileSystemHandle> };

export function canPickDirectory(): boolean {
  return typeof (globalThis as { showDirectoryPicker?: DirPicker }).showDirectoryPicker === 'function';
}

/** showDirectoryPicker; undefined when the user dismissed it. */
export async function pickDirectory(): Promise<FileSystemDirectoryHandle | undefined> {
  try {
    return await (globalThis as unknown as { showDirectoryPicker: DirPicker }).showDirectoryPicker({ mode: 'read', id: 'wsi-dicom' });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') return undefined;
    throw e;
  }
}

/** Every file below a directory, with paths relative to it. Hidden files are skipped (e.g. .DS_Store). */
export async function walkDirectory(dir: FileSystemDirectoryHandle, prefix = ''): Promise<EngineInput[]> {
  const out: EngineInput[] = [];
  for await (const h of (dir as IterableDir).values()) {
    if (h.name.startsWith('.')) continue;
    const path = prefix ? `${prefix}/${h.name}` : h.name;
    if (h.kind === 'file') out.push({ path, file: await (h as FileSystemFileHandle).getFile() });
    else out.push(...(await walkDirectory(h as FileSystemDirectoryHandle, path)));
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Inputs of picked files; a webkitdirectory pick keeps its relative paths. */
export function inputsOfFiles(files: File[]): EngineInput[] {
  return files.filter((f) => !f.name.startsWith('.')).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** Read permission on a stored directory handle: 'granted', or 'prompt' when a click must ask again. */
export async function directoryPermission(dir: FileSystemDirectoryHandle, ask: boolean): Promise<PermissionState> {
  const h = dir as unknown as PermissionHandle;
  if (!h.queryPermission) return 'granted';
  const state = await h.queryPermission({ mode: 'read' });
  if (state === 'granted' || !ask || !h.requestPermission) return state;
  return h.requestPermission({ mode: 'read' });
}

/** All inputs of a stored selection (walks a directory again: its Files are not stored). */
export async function inputsOfSource(source: SourceRecord): Promise<EngineInput[]> {
  if (source.dir) return walkDirectory(source.dir);
  return inputsOfFiles(source.files ?? []);
}
