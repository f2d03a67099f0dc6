/**
 * Each picked File's path inside its selection (a folder pick's relative path, else its name).
 * Slides are re-opened in the worker from their Files alone (after the worker lost them, or after
 * a reload when the files were read again); a multi-file slide found by path — MIRAX's `X.mrxs`
 * beside its `X/` folder — needs those paths again. Weak: a File forgotten by the page goes.
 */
const paths = new WeakMap<File, string>();

export function rememberPath(file: File, path: string): void {
  paths.set(file, path);
}

/** The path the file was picked under; its name when it came from elsewhere. */
export function pathOfFile(file: File): string {
  return paths.get(file) ?? file.name;
}
