/**
 * The one bound zustand store, split into slices (images, jobs, wizards, ui). It holds no
 * passphrase or key, ever (docs/DESIGN.md "Secrets").
 */
import { create } from 'zustand';
import { createImagesSlice, type ImagesSlice } from './images-slice.js';
import { createJobsSlice, type JobsSlice } from './jobs-slice.js';
import { createUiSlice, type UiSlice } from './ui-slice.js';
import { createWizardsSlice, type WizardsSlice } from './wizards-slice.js';
import { createSelectionSlice, type SelectionSlice } from './selection-slice.js';

export type Store = ImagesSlice & JobsSlice & WizardsSlice & UiSlice & SelectionSlice;

export const useStore = create<Store>()((...a) => ({
  ...createImagesSlice(...a),
  ...createJobsSlice(...a),
  ...createWizardsSlice(...a),
  ...createUiSlice(...a),
  ...createSelectionSlice(...a),
}));
