/**
 * The in-memory fake's batch (fake.ts): the same per-image report as core's runner
 * (core/service/batch.ts), one image after the other through the fake's keyslot calls.
 */
import type { BatchItem, BatchReport, BatchRequest, VaultApi } from '../../../core/api/index.js';
import { errorCode } from './errors.js';

type Keyslots = Pick<VaultApi, 'keyslotChange' | 'keyslotAdd' | 'keyslotRemove'>;

async function one(
  api: Keyslots,
  req: BatchRequest,
  path: string
): Promise<Omit<BatchItem, 'path'>> {
  const passphrase = req.passphrase ?? new Uint8Array();
  const newPassphrase = req.newPassphrase ?? new Uint8Array();
  try {
    if (req.operation === 'rekey') {
      return { status: 'failed', code: 'UNSUPPORTED_FEATURE', reason: 'Not in demo mode' };
    }
    if (req.operation === 'keyslot-change') {
      const r = await api.keyslotChange({ path, passphrase, newPassphrase });
      return {
        status: 'changed',
        slot: r.slot,
        removed: r.removed,
        reason: `new passphrase in keyslot ${r.slot}`,
      };
    }
    if (req.operation === 'keyslot-add') {
      const r = await api.keyslotAdd({ path, passphrase, newPassphrase });
      return { status: 'changed', slot: r.slot, reason: `new passphrase in keyslot ${r.slot}` };
    }
    const r = await api.keyslotRemove({ path, slot: req.slot, passphrase: req.passphrase });
    return {
      status: 'changed',
      removed: r.removed,
      reason: `removed keyslot ${r.removed.join(', ')}`,
    };
  } catch (e) {
    const code = errorCode(e);
    const reason = e instanceof Error ? e.message : String(e);
    return { status: code === 'IMAGE_IN_USE' ? 'skipped' : 'failed', code, reason };
  }
}

/** Runs `req` image by image, reporting after every change. */
export async function runFakeBatch(
  api: Keyslots,
  req: BatchRequest,
  jobId: string,
  onUpdate: (r: BatchReport) => void
): Promise<BatchReport> {
  const images: BatchItem[] = [...new Set(req.paths)].map((path) => ({ path, status: 'pending' }));
  const report: BatchReport = {
    kind: 'image-vault-batch-report',
    version: 1,
    jobId,
    operation: req.operation,
    host: 'demo',
    startedAt: new Date().toISOString(),
    finished: false,
    cancelled: false,
    summary: {
      total: images.length,
      changed: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      remaining: images.length,
    },
    images,
  };
  const update = () => {
    const n = (s: BatchItem['status']) => images.filter((i) => i.status === s).length;
    report.summary = {
      total: images.length,
      changed: n('changed'),
      unchanged: n('unchanged'),
      skipped: n('skipped'),
      failed: n('failed'),
      remaining: n('pending') + n('running'),
    };
    onUpdate(structuredClone(report));
  };
  for (const item of images) {
    item.status = 'running';
    update();
    Object.assign(item, await one(api, req, item.path));
    update();
  }
  report.finished = true;
  report.endedAt = new Date().toISOString();
  update();
  return structuredClone(report);
}
