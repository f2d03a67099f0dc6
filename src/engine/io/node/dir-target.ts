import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { ByteSink, ByteSource } from '../byte-source.ts';
import type { OutputTarget } from '../../redact/redact.ts';
import { SlideError } from '../../../shared/errors.ts';
import { NodeFileSink, NodeFileSource } from './file-source.ts';

/** Outputs as files under a directory on disk. */
export class NodeDirTarget implements OutputTarget {
  constructor(readonly dir: string) {}

  private path(name: string): string {
    const p = resolve(this.dir, name);
    // Output names come from plans; never let one escape the output directory.
    if (!p.startsWith(resolve(this.dir) + sep)) throw new SlideError('BAD_REQUEST', `invalid output name "${name}"`);
    return p;
  }

  async createSink(name: string): Promise<ByteSink> {
    const p = this.path(name);
    await mkdir(dirname(p), { recursive: true });
    try {
      return await NodeFileSink.create(p);
    } catch (e) {
      throw new SlideError('IO', `cannot create ${name} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
    }
  }

  openSource(name: string): Promise<ByteSource> {
    return NodeFileSource.open(this.path(name), name);
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  async closeSource(source: ByteSource): Promise<void> {
    if (source instanceof NodeFileSource) await source.close();
  }
}

/** node:crypto SHA-256 behind the engine's Hasher interface (faster than pure TS; threaded variant for big files). */
export { nodeSha256, threadedNodeSha256 } from './node-hash.ts';
