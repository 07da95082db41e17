/** Jobs slice: every running and finished job, fed by `listJobs` and the event stream. */
import type { StateCreator } from 'zustand';
import type { JobInfo } from '../../../core/api/index.js';
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

export const createJobsSlice: StateCreator<Store, [], [], JobsSlice> = (set, get) => ({
  jobs: {},
  jobOrigins: {},
  clearedJobs: {},
  upsertJob(job, origin) {
    set((s) => {
      if (s.clearedJobs[job.id]) return s;
      const prev = s.jobs[job.id];
      // Ignore stale progress arriving after the terminal state.
      if (prev && prev.state !== 'running' && job.state === 'running') return s;
      return {
        jobs: { ...s.jobs, [job.id]: job },
        ...(origin ? { jobOrigins: { ...s.jobOrigins, [job.id]: origin } } : {}),
      };
    });
  },
  async loadJobs() {
    try {
      const list = await api().listJobs();
      for (const j of list) get().upsertJob(j);
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
