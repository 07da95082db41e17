/** Jobs slice: every running and finished job, fed by `listJobs` and the event stream. */
import type { StateCreator } from 'zustand';
import type { JobInfo } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import type { Store } from './index.js';

export interface JobsSlice {
  jobs: Record<string, JobInfo>;
  upsertJob(job: JobInfo): void;
  loadJobs(): Promise<void>;
  cancelJob(id: string): Promise<void>;
}

export const createJobsSlice: StateCreator<Store, [], [], JobsSlice> = (set, get) => ({
  jobs: {},
  upsertJob(job) {
    set((s) => {
      const prev = s.jobs[job.id];
      // Ignore stale progress arriving after the terminal state.
      if (prev && prev.state !== 'running' && job.state === 'running') return s;
      return { jobs: { ...s.jobs, [job.id]: job } };
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
});
