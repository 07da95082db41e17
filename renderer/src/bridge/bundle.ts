/**
 * Reading a bundle (folder or `.tar` file) for the import wizard: the manifest, who signed it
 * and whether the allowed-signers file trusts them (`inspectBundle`, nothing is written),
 * and for a folder its files. Nothing here touches a passphrase.
 */
import type { BundleSigner, DirectoryEntry } from '../../../core/api/index.js';
import { api } from './index.js';
import { ApiError } from './errors.js';

export const MANIFEST_FILE = 'manifest.json';

/** What the import wizard shows before anything is copied. */
export interface BundleSummary {
  /** The bundle folder or file. */
  dir: string;
  layout: 'folder' | 'tar';
  /** Image file name inside the bundle. */
  image: string;
  /** The image's own path (folder bundles only: a .tar is read as one stream). */
  imagePath?: string;
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
  /** The secret is sealed to keys (no passphrase): who it is sealed to. */
  sealedTo?: { type: string; fingerprint: string; comment?: string }[];
  signer?: BundleSigner;
  /** Files of a folder bundle (name and size). */
  files: DirectoryEntry[];
}

/** True when a directory listing holds a bundle manifest. */
export function hasManifest(entries: readonly DirectoryEntry[]): boolean {
  return entries.some((e) => e.kind === 'file' && e.name === MANIFEST_FILE);
}

/** Reads a bundle; with `allowedSigners`, refuses (BAD_SIGNATURE) what they do not trust. */
export async function readBundle(path: string, allowedSigners?: string): Promise<BundleSummary> {
  const s = await api().inspectBundle(path, allowedSigners);
  const m = s.manifest;
  let files: DirectoryEntry[] = [];
  let imagePath: string | undefined;
  let fileSize = m.imageSize ?? 0;
  if (s.layout === 'folder') {
    const listing = await api().listDirectory(path);
    files = listing.entries.filter((e) => e.kind === 'file');
    const entry = files.find((f) => f.name === m.image);
    if (!entry)
      throw new ApiError('NOT_FOUND', 'The bundle folder does not contain its disk image.');
    imagePath = entry.path;
    fileSize = entry.size;
  }
  return {
    dir: path,
    layout: s.layout,
    image: m.image,
    ...(imagePath ? { imagePath } : {}),
    fileSize,
    recipient: m.recipient,
    createdAt: m.createdAt,
    format: m.format,
    virtualSize: m.virtualSize,
    cipher: m.cipher,
    luksUuid: m.luksUuid,
    sha256: m.sha256,
    freshMasterKey: m.freshMasterKey,
    ...(m.sealed ? { sealedTo: m.sealed.recipients } : {}),
    ...(s.signer ? { signer: s.signer } : {}),
    files,
  };
}
