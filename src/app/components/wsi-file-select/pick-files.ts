import type { SourceEntry } from '../../state/batch-store.ts';
import type { EngineInput } from '../wsi-bulk-import/wizard-engine.ts';

/**
 * The File System Access API is typed only partly in lib.dom: declare the pieces used here.
 * Chromium has them; other browsers fall back to <input type=file> / <input webkitdirectory>.
 */
interface PermissionHandle {
  queryPermission?(d: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(d: { mode: 'read' }): Promise<PermissionState>;
}
interface FilePickerOptions {
  multiple?: boolean;
  id?: string;
  excludeAcceptAllOption?: boolean;
  types?: { description: string; accept: Record<string, string[]> }[];
}
type FilePicker = (o?: FilePickerOptions) => Promise<FileSystemFileHandle[]>;
type DirPicker = (o?: { mode?: 'read'; id?: string }) => Promise<FileSystemDirectoryHandle>;
type IterableDir = FileSystemDirectoryHandle & { values(): AsyncIterable<FileSystemHandle> };

const pickers = globalThis as unknown as { showOpenFilePicker?: FilePicker; showDirectoryPicker?: DirPicker };

export function canPickFiles(): boolean {
  return typeof pickers.showOpenFilePicker === 'function';
}

export function canPickDirectory(): boolean {
  return typeof pickers.showDirectoryPicker === 'function';
}

/** The dismissed picker is not an error: undefined. */
async function unlessDismissed<T>(p: () => Promise<T>): Promise<T | undefined> {
  try {
    return await p();
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') return undefined;
    throw e;
  }
}

/**
 * showOpenFilePicker: its handles can be stored and read again after a reload, so the slide's
 * bytes never need to be copied anywhere. "All files" stays available for unusual extensions.
 */
export function pickFileHandles(): Promise<FileSystemFileHandle[] | undefined> {
  return unlessDismissed(() =>
    pickers.showOpenFilePicker!({
      multiple: true,
      id: 'wsi-files',
      excludeAcceptAllOption: false,
      // Zipped DICOM folders too: they go as they are with Direct Upload (the server unpacks them).
      types: [{ description: 'Slides (SVS, NDPI, SCN, BIF, TIFF, MIRAX, DICOM, zipped DICOM)', accept: { 'image/tiff': ['.svs', '.tif', '.tiff', '.ndpi', '.scn', '.bif'], 'application/octet-stream': ['.mrxs'], 'application/dicom': ['.dcm'], 'application/zip': ['.zip'] } }],
    }),
  );
}

/** showDirectoryPicker; undefined when the user dismissed it. */
export function pickDirectory(): Promise<FileSystemDirectoryHandle | undefined> {
  return unlessDismissed(() => pickers.showDirectoryPicker!({ mode: 'read', id: 'wsi-dicom' }));
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

/** What identifies each input again later (path, size, date). */
export function entriesOf(inputs: EngineInput[]): SourceEntry[] {
  return inputs.map((i) => ({ path: i.path, size: i.file.size, lastModified: i.file.lastModified }));
}

/** Read permission on a stored handle: 'granted', or 'prompt' when a click must ask again. */
export async function handlePermission(handle: FileSystemHandle, ask: boolean): Promise<PermissionState> {
  const h = handle as unknown as PermissionHandle;
  if (!h.queryPermission) return 'granted';
  const state = await h.queryPermission({ mode: 'read' });
  if (state === 'granted' || !ask || !h.requestPermission) return state;
  return h.requestPermission({ mode: 'read' });
}
