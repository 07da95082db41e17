/**
 * Wizards slice: which dialog or wizard is open and for which image. Step state that holds
 * secrets lives only in uncontrolled password inputs, never here.
 */
import type { StateCreator } from 'zustand';
import type { Store } from './index.js';

export type KeyslotAction = 'test' | 'add' | 'change' | 'remove';

export type Wizard =
  | { kind: 'create' }
  | { kind: 'migrate'; source: string }
  | { kind: 'convert'; source: string }
  | { kind: 'keyslot'; action: KeyslotAction; path: string; slot?: number }
  | { kind: 'export'; source?: string }
  | { kind: 'import' }
  | { kind: 'open' };

export interface WizardsSlice {
  wizard: Wizard | null;
  openWizard(w: Wizard): void;
  closeWizard(): void;
}

export const createWizardsSlice: StateCreator<Store, [], [], WizardsSlice> = (set) => ({
  wizard: null,
  openWizard: (wizard) => set({ wizard }),
  closeWizard: () => set({ wizard: null }),
});
