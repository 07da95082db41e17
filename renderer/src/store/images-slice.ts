/**
 * Library slice: the images the user opened or dropped, with non-secret metadata only
 * (remembered in localStorage), and the latest `inspect` result per path (memory only).
 */
import type { StateCreator } from 'zustand';
import type { ImageInfo, ImageInUse } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import type { Store } from './index.js';

/** What the library remembers about an image: paths and plain metadata, never secrets. */
export interface LibraryEntry {
  path: string;
  name: string;
  format: ImageInfo['format'];
  virtualSize: number;
  fileSize: number;
  encryption: 'luks' | 'aes' | 'none';
  luksVersion?: 1 | 2;
  activeSlots: number;
  totalSlots: number;
  lastSeen: number;
  /** Set when the last inspect failed (file moved, unreadable…). */
  problem?: string;
  /** Held by a VM or another program when last inspected (`ImageInfo.inUse`). */
  inUse?: ImageInUse;
}

export interface ImagesSlice {
  library: LibraryEntry[];
  infos: Record<string, ImageInfo>;
  loading: Record<string, boolean>;
  openImage(path: string): Promise<ImageInfo | null>;
  refreshImage(path: string): Promise<ImageInfo | null>;
  forgetImage(path: string): void;
}

const STORAGE_KEY = 'image-vault.library.v1';

/** Summarises `inspect` output into a library entry. */
export function toEntry(info: ImageInfo): LibraryEntry {
  const enc = info.encryption;
  const slots = enc?.slots ?? [];
  return {
    path: info.path,
    name: info.path.slice(info.path.lastIndexOf('/') + 1),
    format: info.format,
    virtualSize: info.virtualSize,
    fileSize: info.fileSize,
    encryption: enc ? enc.format : 'none',
    luksVersion: enc?.version,
    activeSlots: slots.filter((s) => s.active).length,
    totalSlots: slots.length,
    lastSeen: Date.now(),
    ...(info.inUse ? { inUse: info.inUse } : {}),
  };
}

export function loadLibrary(): LibraryEntry[] {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed)
      ? (parsed as LibraryEntry[]).filter((e) => typeof e?.path === 'string')
      : [];
  } catch {
    return [];
  }
}

function saveLibrary(entries: LibraryEntry[]): void {
  try {
    // Whether an image is in use is only true now: it is not remembered across sessions.
    const kept = entries.map((e) => ({ ...e, inUse: undefined }));
    globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(kept));
  } catch {
    // storage full or disabled: the library just is not remembered
  }
}

export const createImagesSlice: StateCreator<Store, [], [], ImagesSlice> = (set, get) => ({
  library: loadLibrary(),
  infos: {},
  loading: {},
  async openImage(path) {
    const info = await get().refreshImage(path);
    if (info) get().showDetails(info.path);
    return info;
  },
  async refreshImage(path) {
    set((s) => ({ loading: { ...s.loading, [path]: true } }));
    try {
      const info = await api().inspect(path);
      set((s) => {
        const entry = toEntry(info);
        const library = [entry, ...s.library.filter((e) => e.path !== info.path)];
        saveLibrary(library);
        return { infos: { ...s.infos, [info.path]: info }, library };
      });
      return info;
    } catch (e) {
      const problem = describeError(e);
      set((s) => {
        const library = s.library.map((x) => (x.path === path ? { ...x, problem } : x));
        saveLibrary(library);
        return { library };
      });
      get().notify('error', problem);
      return null;
    } finally {
      set((s) => ({ loading: { ...s.loading, [path]: false } }));
    }
  },
  forgetImage(path) {
    set((s) => {
      const library = s.library.filter((e) => e.path !== path);
      saveLibrary(library);
      const infos = { ...s.infos };
      delete infos[path];
      return { library, infos };
    });
  },
});
