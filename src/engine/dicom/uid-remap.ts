import { SlideError } from '../../shared/errors.ts';

/**
 * One keyed mapping per batch: new = 2.25.<UUID from HMAC-SHA-256(key, old)>. The same key gives the
 * same UIDs on a retry, every instance of a slide maps a shared UID the same way (so Study/Series/
 * FrameOfReference/Pyramid stay together and references stay valid), and without the key the
 * mapping cannot be reversed by hashing guessed UIDs. WebCrypto is available in Node 20 and in workers.
 */
export class UidRemapper {
  private readonly cache = new Map<string, Promise<string>>();
  private keyPromise: ReturnType<typeof globalThis.crypto.subtle.importKey>;

  constructor(keyHex: string) {
    if (!/^([0-9a-fA-F]{2}){16,}$/.test(keyHex)) {
      throw new SlideError('BAD_REQUEST', 'the UID key must be at least 16 bytes of hex');
    }
    const raw = new Uint8Array(keyHex.length / 2);
    for (let i = 0; i < raw.length; i++) raw[i] = parseInt(keyHex.slice(i * 2, i * 2 + 2), 16);
    this.keyPromise = globalThis.crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  }

  /** A fresh random key (hex) for a batch; the caller must keep it to reproduce the mapping. */
  static randomKeyHex(): string {
    const b = globalThis.crypto.getRandomValues(new Uint8Array(32));
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  /**
   * The batch key's keyed hash of `value` in `domain`: the same for the same batch, unrelated to
   * the value without the key. Other drivers derive their replacement ids from it (MIRAX SLIDE_ID).
   */
  derive(domain: string, value: string): Promise<Uint8Array> {
    return this.mac(domain, value);
  }

  private async mac(domain: string, value: string): Promise<Uint8Array> {
    const key = await this.keyPromise;
    const sig = await globalThis.crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${domain}\0${value}`));
    return new Uint8Array(sig);
  }

  /** The remapped UID. Class and transfer syntax UIDs must not be passed here (callers filter them). */
  uid(old: string): Promise<string> {
    const k = `u:${old}`;
    let p = this.cache.get(k);
    if (!p) {
      p = this.mac('uid', old).then(uuidUid);
      this.cache.set(k, p);
    }
    return p;
  }

  /** Every UID this mapping has generated so far (the sweep exempts matches inside them). */
  async generatedUids(): Promise<string[]> {
    return Promise.all([...this.cache].filter(([k]) => k.startsWith('u:')).map(([, p]) => p));
  }

  /**
   * A dummy for an identifier (Type 1 values that must stay present, e.g. Container Identifier):
   * keyed like UIDs so equal inputs give equal dummies (a container and its specimen stay linked)
   * but nothing of the original survives.
   */
  dummyId(old: string): Promise<string> {
    const k = `d:${old}`;
    let p = this.cache.get(k);
    if (!p) {
      p = this.mac('dummy', old).then((m) => `DEID-${Array.from(m.subarray(0, 5), (x) => x.toString(16).padStart(2, '0')).join('').toUpperCase()}`);
      this.cache.set(k, p);
    }
    return p;
  }
}

/** 128 bits as an RFC 9562 version-8 UUID, written as a 2.25 UID (PS3.5 B.2). */
function uuidUid(mac: Uint8Array): string {
  const b = mac.slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80; // version 8 (custom)
  b[8] = (b[8] & 0x3f) | 0x80; // RFC variant
  let n = 0n;
  for (const x of b) n = n * 256n + BigInt(x);
  return `2.25.${n.toString(10)}`;
}
