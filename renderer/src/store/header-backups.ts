/**
 * Header backups this app made or restored from, per image path (remembered in localStorage):
 * where the file is, when it was made and which keyslots it holds. Plain metadata only: the
 * backup file itself never passes through the renderer. Used to offer a backup before a keyslot
 * change when none is known.
 */
import { create } from 'zustand';

export interface KnownHeaderBackup {
  file: string;
  createdAt: string;
  activeSlots: number[];
}

interface HeaderBackupsStore {
  known: Record<string, KnownHeaderBackup>;
  remember(path: string, backup: KnownHeaderBackup): void;
}

const STORAGE_KEY = 'image-vault.header-backups.v1';

function load(): Record<string, KnownHeaderBackup> {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    return parsed && typeof parsed === 'object'
      ? (parsed as Record<string, KnownHeaderBackup>)
      : {};
  } catch {
    return {};
  }
}

export const useHeaderBackups = create<HeaderBackupsStore>()((set) => ({
  known: load(),
  remember(path, backup) {
    set((s) => {
      const known = { ...s.known, [path]: backup };
      try {
        globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(known));
      } catch {
        // storage full or disabled: remembered for this session only
      }
      return { known };
    });
  },
}));
