import { transferHandlers, type TransferHandler } from 'comlink';
import { SlideError, type SerializedSlideError } from './errors.ts';

/**
 * Comlink's built-in "throw" handler keeps only message/name/stack, so a SlideError's code would
 * be lost between the engine worker and the page. This handler carries code and detail across.
 * Register it on BOTH sides (worker and page) before the first call.
 */
type Thrown = { value: unknown };
type Wire = { isError: true; value: { message: string; name: string; stack?: string; code?: string; detail?: string } } | { isError: false; value: unknown };

const THROW_MARKER_CHECK = (v: unknown): v is Thrown => typeof v === 'object' && v !== null && 'value' in v;

export function registerSlideErrorTransfer(): void {
  const builtin = transferHandlers.get('throw') as TransferHandler<Thrown, Wire> | undefined;
  const handler: TransferHandler<Thrown, Wire> = {
    canHandle: (v: unknown): v is Thrown => (builtin ? builtin.canHandle(v) : false) && THROW_MARKER_CHECK(v),
    serialize({ value }) {
      if (value instanceof SlideError) {
        const j = value.toJSON();
        return [{ isError: true, value: { message: j.message, name: 'SlideError', code: j.code, ...(j.detail ? { detail: j.detail } : {}) } }, []];
      }
      if (value instanceof Error) return [{ isError: true, value: { message: value.message, name: value.name, ...(value.stack ? { stack: value.stack } : {}) } }, []];
      return [{ isError: false, value }, []];
    },
    deserialize(w) {
      if (w.isError && w.value.name === 'SlideError' && w.value.code) {
        throw SlideError.fromJSON({ name: 'SlideError', code: w.value.code as SerializedSlideError['code'], message: w.value.message, ...(w.value.detail ? { detail: w.value.detail } : {}) });
      }
      if (w.isError) throw Object.assign(new Error(w.value.message), w.value);
      throw w.value;
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
