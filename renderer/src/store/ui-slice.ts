/** UI slice: current screen, selected image, transient notices. */
import type { StateCreator } from 'zustand';
import type { Store } from './index.js';

export type Screen = 'library' | 'details' | 'jobs';

export interface Notice {
  id: number;
  tone: 'info' | 'success' | 'error';
  text: string;
}

export interface UiSlice {
  screen: Screen;
  selected: string | null;
  notices: Notice[];
  go(screen: Screen): void;
  showDetails(path: string): void;
  notify(tone: Notice['tone'], text: string): void;
  dismiss(id: number): void;
}

let seq = 0;

export const createUiSlice: StateCreator<Store, [], [], UiSlice> = (set, get) => ({
  screen: 'library',
  selected: null,
  notices: [],
  go: (screen) => set({ screen }),
  showDetails: (path) => set({ screen: 'details', selected: path }),
  notify(tone, text) {
    const id = ++seq;
    set((s) => ({ notices: [...s.notices.slice(-3), { id, tone, text }] }));
    setTimeout(() => get().dismiss(id), tone === 'error' ? 9000 : 5000);
  },
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
});
