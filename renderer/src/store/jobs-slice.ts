/**
 * Jobs slice: every running and finished job, fed by `listJobs` and the event stream. A convert,
 * migrate or import that finishes while this window watches adds its output to the Library
 * (issue #14, "One library"); jobs listed at startup do not (the user may have removed them).
 */
import type { StateCreator } from 'zustand';
import type { JobInfo, JobKind } from '../../../core/api/index.js';
import type { OriginKind } from './images-slice.js';
import { api } from '../bridge/index.js';
import type { Store } from './index.js';
import type { Wizard } from './wizards-slice.js';

export interface JobsSlice {
  jobs: Record<string, JobInfo>;
  /** The dialog that started a job (this window only): Retry opens it again. */
  jobOrigins: Record<string, Wizard>;
  /** Finished jobs the user cleared from the list (the service still lists them). */
  clearedJobs: Record<string, true>;
  upsertJob(job: JobInfo, origin?: Wizard): void;
  loadJobs(): Promise<void>;
  cancelJob(id: string): Promise<void>;
  /** Removes a finished job from the list. */
  clearJob(id: string): void;
}

/** The jobs whose output joins the Library, and how it is labelled there. */
const OUTPUT_ORIGIN: Partial<Record<JobKind, OriginKind>> = {
  convert: 'converted',
  migrate: 'migrated',
  import: 'imported',
};

/** The library addition a finished job asks for, if any. */
export function outputOf(job: JobInfo): { path: string; kind: OriginKind; from?: string } | null {
  const kind = OUTPUT_ORIGIN[job.kind];
  const target = job.result?.target;
  if (!kind || job.state !== 'succeeded' || typeof target !== 'string') return null;
  const from = job.result?.source;
  return { path: target, kind, ...(typeof from === 'string' ? { from } : {}) };
}

export const createJobsSlice: StateCreator<Store, [], [], JobsSlice> = (set, get) => ({
  jobs: {},
  jobOrigins: {},
  clearedJobs: {},
  upsertJob(job, origin) {
    const before = get();
    if (before.clearedJobs[job.id]) return;
    const prev = before.jobs[job.id];
    // Ignore stale progress arriving after the terminal state.
    if (prev && prev.state !== 'running' && job.state === 'running') return;
    set((s) => ({
      jobs: { ...s.jobs, [job.id]: job },
      ...(origin ? { jobOrigins: { ...s.jobOrigins, [job.id]: origin } } : {}),
    }));
    const output = prev?.state === 'succeeded' ? null : outputOf(job);
    if (output) {
      const { path, ...from } = output;
      void get().addToLibrary(path, from);
    }
  },
  async loadJobs() {
    try {
      const list = await api().listJobs();
      // Seen before this window opened: listed, not added to the Library again.
      set((s) => ({ jobs: { ...Object.fromEntries(list.map((j) => [j.id, j])), ...s.jobs } }));
    } catch {
      // the jobs panel shows what the event stream brings
    }
  },
  async cancelJob(id) {
    try {
      await api().cancelJob(id);
    } catch (e) {
      get().notify('error', e instanceof Error ? e.message : String(e));
    }
  },
  clearJob(id) {
    set((s) => {
      if (s.jobs[id]?.state === 'running') return s;
      const jobs = { ...s.jobs };
      delete jobs[id];
      return { jobs, clearedJobs: { ...s.clearedJobs, [id]: true } };
    });
  },
});
