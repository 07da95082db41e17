/**
 * Reading an export bundle folder for the import wizard: its non-secret `manifest.json`
 * (loopback face) or, where that call is not offered, the facts `inspect` gives about the
 * bundle's image. Nothing here touches a passphrase.
 */
import type { DirectoryEntry } from '../../../core/api/index.js';
import { api } from './index.js';
import { ApiError } from './errors.js';

export const MANIFEST_FILE = 'manifest.json';

/** What the import wizard shows before anything is copied. */
export interface BundleSummary {
  dir: string;
  /** Image file name inside the bundle. */
  image: string;
  imagePath: string;
  /** Bytes of the image file. */
  fileSize: number;
  recipient?: string;
  createdAt?: string;
  format?: string;
  virtualSize?: number;
  cipher?: string;
  luksUuid?: string;
  /** SHA-256 of the image as written by the sender; verified while importing. */
  sha256?: string;
  freshMasterKey?: boolean;
  /** Every file in the folder (name and size). */
  files: DirectoryEntry[];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** True when a directory listing holds a bundle manifest. */
export function hasManifest(entries: readonly DirectoryEntry[]): boolean {
  return entries.some((e) => e.kind === 'file' && e.name === MANIFEST_FILE);
}

/** Lists the folder, reads its manifest when the transport can, and inspects the image. */
export async function readBundle(dir: string): Promise<BundleSummary> {
  const listing = await api().listDirectory(dir);
  const files = listing.entries.filter((e) => e.kind === 'file');
  if (!hasManifest(files)) {
    throw new ApiError(
      'NOT_FOUND',
      `${listing.path} has no ${MANIFEST_FILE}: it is not an Image Vault bundle folder.`
    );
  }
  const manifest = (await api().readBundleManifest(listing.path)) as unknown as Record<
    string,
    unknown
  >;
  const imageName =
    str(manifest.image) ??
    files.find((f) => /\.(qcow2|luks)$/i.test(f.name))?.name ??
    files.find((f) => /\.(img|raw)$/i.test(f.name))?.name;
  const entry = files.find((f) => f.name === imageName);
  if (!imageName || !entry) {
    throw new ApiError('NOT_FOUND', 'The bundle folder does not contain its disk image.');
  }
  const summary: BundleSummary = {
    dir: listing.path,
    image: imageName,
    imagePath: entry.path,
    fileSize: entry.size,
    recipient: str(manifest.recipient),
    createdAt: str(manifest.createdAt),
    format: str(manifest.format),
    virtualSize: typeof manifest.virtualSize === 'number' ? manifest.virtualSize : undefined,
    cipher: str(manifest.cipher),
    luksUuid: str(manifest.luksUuid),
    sha256: str(manifest.sha256),
    freshMasterKey:
      typeof manifest.freshMasterKey === 'boolean' ? manifest.freshMasterKey : undefined,
    files,
  };
  if (summary.virtualSize === undefined || !summary.luksUuid || !summary.cipher) {
    const info = await api().inspect(entry.path);
    const enc = info.encryption;
    summary.format ??= info.format;
    summary.virtualSize ??= info.virtualSize;
    summary.luksUuid ??= enc?.uuid;
    summary.cipher ??=
      enc?.cipherAlg && enc.cipherMode
        ? `${enc.cipherAlg}-${enc.cipherMode}-${enc.ivgenAlg ?? ''}`
        : undefined;
  }
  return summary;
}
