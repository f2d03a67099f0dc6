import { S3Store } from '@tus/s3-store';

/**
 * @tus/s3-store keeps an upload as `<id>` (the multipart upload, then the object), `<id>.info` and
 * `<id>.part` at the bucket's root. This puts them under `<prefix>uploads/` instead, by adding the
 * prefix to every key the store's client sends and taking it off the keys it lists back.
 */
export class PrefixedS3Store extends S3Store {
  constructor(options: ConstructorParameters<typeof S3Store>[0], readonly keyPrefix: string) {
    super(options);
    if (!keyPrefix) return;
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: unknown; Prefix?: unknown; KeyMarker?: unknown; Delete?: { Objects?: { Key?: string }[] } };
        const listing = context.commandName === 'ListMultipartUploadsCommand';
        if (typeof input.Key === 'string') input.Key = keyPrefix + input.Key;
        for (const o of input.Delete?.Objects ?? []) if (o.Key) o.Key = keyPrefix + o.Key;
        if (listing) {
          input.Prefix = keyPrefix;
          if (typeof input.KeyMarker === 'string' && input.KeyMarker) input.KeyMarker = keyPrefix + input.KeyMarker;
        }
        const result = await next(args);
        if (listing) {
          const out = result.output as { Uploads?: { Key?: string }[]; NextKeyMarker?: string };
          const strip = (k: string | undefined) => (k?.startsWith(keyPrefix) ? k.slice(keyPrefix.length) : k);
          for (const u of out.Uploads ?? []) u.Key = strip(u.Key);
          if (out.NextKeyMarker) out.NextKeyMarker = strip(out.NextKeyMarker);
        }
        return result;
      },
      { step: 'initialize', name: 'wsiTusKeyPrefix' },
    );
  }
}
