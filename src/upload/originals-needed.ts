import { SlideError } from '../shared/errors.ts';

/**
 * SlideError detail of "the originals of this selection cannot be read right now" (a reload lost
 * access to the picked files). The app's Originals throws it; the uploader waits on it.
 */
export const ORIGINALS_NEEDED = 'originals-needed';

export function isOriginalsNeeded(e: unknown): boolean {
  return e instanceof SlideError && e.detail === ORIGINALS_NEEDED;
}
