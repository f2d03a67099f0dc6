import { proxy } from 'comlink';
import { engine } from '../../engine-client.ts';
import type { StagedSlide } from '../../state/batch-store.ts';
import type { RedactionRequest } from '../../../engine/redact/plan-types.ts';
import type { EngineInput, InspectOutcome, WizardEngine } from './wizard-engine.ts';

/** The wizard's engine over the engine worker (Comlink). AbortSignals cannot cross: cancel ids do. */
export function workerWizardEngine(): WizardEngine {
  return {
    async inspect(inputs: EngineInput[]): Promise<InspectOutcome[]> {
      return engine().inspectForWizard(inputs);
    },
    async preview(files: File[], imageId: string | undefined, maxSize: number): Promise<Blob | null> {
      return engine().previewForWizard(files, imageId, maxSize);
    },
    async sha256(file: Blob, signal?: AbortSignal): Promise<string> {
      const id = crypto.randomUUID();
      const onAbort = () => void engine().cancel(id);
      signal?.addEventListener('abort', onAbort);
      try {
        return await engine().sha256File(file, id);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async deidentify(files: File[], request: RedactionRequest, dir: string, onProgress: (d: number, t: number) => void, signal?: AbortSignal): Promise<StagedSlide> {
      const id = crypto.randomUUID();
      const onAbort = () => void engine().cancel(id);
      signal?.addEventListener('abort', onAbort);
      try {
        return await engine().deidentifyForWizard(files, request, dir, proxy(onProgress), id);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async zipStaged(paths: string[], names: string[], zipPath: string): Promise<{ size: number }> {
      return engine().zipStaged(paths, names, zipPath);
    },
  };
}
