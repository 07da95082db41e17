/**
 * Selection slice: which Library images are ticked for a batch (issue #17, "Many images at
 * once"). Paths only, in memory only: a selection is not remembered across sessions.
 */
import type { StateCreator } from 'zustand';
import type { Store } from './index.js';

export interface SelectionSlice {
  /** Ticked image paths, in the order they were ticked. */
  selectedPaths: string[];
  toggleSelected(path: string): void;
  setSelected(paths: string[]): void;
  clearSelected(): void;
}

export const createSelectionSlice: StateCreator<Store, [], [], SelectionSlice> = (set) => ({
  selectedPaths: [],
  toggleSelected: (path) =>
    set((s) => ({
      selectedPaths: s.selectedPaths.includes(path)
        ? s.selectedPaths.filter((p) => p !== path)
        : [...s.selectedPaths, path],
    })),
  setSelected: (paths) => set({ selectedPaths: [...new Set(paths)] }),
  clearSelected: () => set({ selectedPaths: [] }),
});
