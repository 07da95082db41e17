/**
 * Library slice: the images the user opened or dropped, and every image the app created,
 * converted, migrated or imported (issue #14, "One library"), with non-secret metadata only
 * (remembered in localStorage), and the latest `inspect` result per path (memory only).
 * A fresh window reads its remembered images once the bridge is up (`loadLibraryInfos`),
 * retrying transient failures, so nothing shows as unreadable only because it was not read yet.
 */
import type { StateCreator } from 'zustand';
import type { ImageInfo, ImageInUse } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError, errorCode } from '../bridge/errors.js';
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
  /** How the app made this image, and from which image (migrate, convert). */
  origin?: { kind: OriginKind; from?: string };
  /** A legacy image: the LUKS image it was migrated to. */
  migratedTo?: string;
}

export type OriginKind = 'created' | 'converted' | 'migrated' | 'imported';

/** Error codes worth another try: the server restarting, an image briefly held by a writer. */
const TRANSIENT = new Set(['IO', 'INTERNAL', 'IMAGE_IN_USE']);
/** Waits before each retry of a transient failure (ms). */
const RETRY_DELAYS = [300, 1000, 3000];

export interface RefreshOptions {
  /** Do not raise a notice on failure (the row shows the problem): startup reads. */
  quiet?: boolean;
}

export interface ImagesSlice {
  library: LibraryEntry[];
  infos: Record<string, ImageInfo>;
  loading: Record<string, boolean>;
  openImage(path: string): Promise<ImageInfo | null>;
  refreshImage(path: string, opts?: RefreshOptions): Promise<ImageInfo | null>;
  forgetImage(path: string): void;
  /** Reads every remembered image (startup, once the bridge is ready). */
  loadLibraryInfos(): Promise<void>;
  /** Adds an image the app made; a migrated one is linked to its original and back. */
  addToLibrary(path: string, origin: { kind: OriginKind; from?: string }): Promise<void>;
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

/** The links an entry keeps across re-reads. */
function links(old: LibraryEntry | undefined): Partial<LibraryEntry> {
  return {
    ...(old?.origin ? { origin: old.origin } : {}),
    ...(old?.migratedTo ? { migratedTo: old.migratedTo } : {}),
  };
}

/** `inspect`, tried again after transient failures (RETRY_DELAYS). */
async function inspectWithRetry(path: string): Promise<ImageInfo> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api().inspect(path);
    } catch (e) {
      const delay = RETRY_DELAYS[attempt];
      if (delay === undefined || !TRANSIENT.has(errorCode(e))) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
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
  async refreshImage(path, opts = {}) {
    set((s) => ({ loading: { ...s.loading, [path]: true } }));
    try {
      const info = await inspectWithRetry(path);
      set((s) => {
        const old = s.library.find((e) => e.path === info.path);
        const entry = { ...toEntry(info), ...links(old) };
        // A known image keeps its place; a new one goes first.
        const library = old
          ? s.library.map((e) => (e.path === info.path ? entry : e))
          : [entry, ...s.library];
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
      if (!opts.quiet) get().notify('error', problem);
      return null;
    } finally {
      set((s) => ({ loading: { ...s.loading, [path]: false } }));
    }
  },
  async loadLibraryInfos() {
    const paths = get().library.map((e) => e.path);
    // Two at a time: each read is small, but the server is shared with running jobs.
    const queue = [...paths];
    const worker = async () => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
        await get().refreshImage(p, { quiet: true });
      }
    };
    await Promise.all([worker(), worker()]);
  },
  async addToLibrary(path, origin) {
    const info = await get().refreshImage(path, { quiet: true });
    const at = info?.path ?? path;
    if (
      origin.from &&
      origin.kind === 'migrated' &&
      !get().library.some((e) => e.path === origin.from)
    ) {
      await get().refreshImage(origin.from, { quiet: true });
    }
    set((s) => {
      const library = s.library.map((e) =>
        e.path === at
          ? { ...e, origin }
          : origin.kind === 'migrated' && e.path === origin.from
            ? { ...e, migratedTo: at }
            : e
      );
      saveLibrary(library);
      return { library };
    });
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
