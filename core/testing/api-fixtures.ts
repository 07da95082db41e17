/** Results that satisfy the contract's schemas, for tests that stub the `VaultApi`. */
import type { ImageInfo } from '../api/index.js';

/** A plain raw image's `ImageInfo`, with `overrides` applied. */
export function imageInfoFixture(path: string, overrides: Partial<ImageInfo> = {}): ImageInfo {
  return {
    path,
    format: 'raw',
    virtualSize: 512,
    actualSize: 0,
    fileSize: 512,
    backingChain: [],
    snapshots: [],
    encrypted: false,
    warnings: [],
    ...overrides,
  };
}
