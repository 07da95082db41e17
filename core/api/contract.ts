/**
 * The contract every face is derived from (docs/DESIGN.md, "One contract"): one table of
 * operations, each with its argument schema, its result schema and whether it starts a job.
 *
 * The Electron IPC handlers, the preload's exposed object, the loopback server's dispatcher
 * and the renderer's Electron and loopback adapters are generic code over this table, so a
 * new operation is a row here, its types in `types.ts` and its code in the service. The
 * compile-time checks at the end keep `VaultApi` (types.ts) and the table identical.
 */
import { z } from 'zod';
import type { VaultApi } from './types.js';
import * as R from './result-schemas.js';
import * as Q from './schemas.js';
import { rekeyRequestSchema } from './rekey-schemas.js';
import { batchRequestSchema } from './batch-schemas.js';

interface OperationSpec {
  /** The argument tuple, validated on the main side before the service runs. */
  readonly args: z.ZodType<readonly unknown[]>;
  /** The result, checked before it is sent to a face. */
  readonly result: z.ZodType;
  /**
   * Starts a job: the service keeps the byte arguments (passphrases) until the job ends and
   * wipes them then; for other operations the face's copy is wiped when the call returns.
   */
  readonly job: boolean;
}

const call = <A extends z.ZodType<readonly unknown[]>, Res extends z.ZodType>(
  args: A,
  result: Res
) => ({ args, result, job: false }) as const;
const job = <A extends z.ZodType<readonly unknown[]>>(args: A) =>
  ({ args, result: R.jobInfoSchema, job: true }) as const;

/** Every operation a face may call (events travel separately: `VaultEvent`). */
export const OPERATIONS = {
  inspect: call(z.tuple([Q.pathSchema]), R.imageInfoSchema),
  create: call(z.tuple([Q.createRequestSchema]), R.imageInfoSchema),
  keyslotTest: call(z.tuple([Q.pathSchema, Q.passphraseSchema]), R.slotResultSchema),
  keyslotAdd: call(z.tuple([Q.keyslotAddRequestSchema]), R.slotResultSchema),
  keyslotChange: call(z.tuple([Q.keyslotChangeRequestSchema]), R.changeResultSchema),
  keyslotRemove: call(z.tuple([Q.keyslotRemoveRequestSchema]), R.removeResultSchema),
  assessLegacyPassphrase: call(
    z.tuple([Q.pathSchema, Q.passphraseSchema]),
    R.passphraseAssessmentSchema
  ),
  benchmarkKdf: call(z.tuple([Q.hashNameSchema, Q.iterTimeMsSchema]), R.kdfBenchmarkSchema),
  startConvert: job(z.tuple([Q.convertRequestSchema])),
  startMigrate: job(z.tuple([Q.migrateRequestSchema])),
  startExport: job(z.tuple([Q.exportRequestSchema])),
  startImport: job(z.tuple([Q.importRequestSchema])),
  startBatch: job(z.tuple([batchRequestSchema])),
  libvirtPlan: call(z.tuple([Q.pathSchema]), R.libvirtPlanSchema),
  readBundleManifest: call(z.tuple([Q.pathSchema]), R.bundleManifestSchema),
  inspectBundle: call(z.tuple([Q.pathSchema, Q.pathSchema.optional()]), R.bundleSummarySchema),
  describeKeys: call(z.tuple([Q.describeKeysRequestSchema]), R.keyDescriptionSchema),
  listOwnKeys: call(z.tuple([]), z.array(R.ownKeySchema)),
  listJobs: call(z.tuple([]), z.array(R.jobInfoSchema)),
  cancelJob: call(z.tuple([Q.jobIdSchema]), R.noResultSchema),
  listDirectory: call(z.tuple([Q.pathSchema.optional()]), R.directoryListingSchema),
  trash: call(z.tuple([Q.pathSchema]), R.trashResultSchema),
  headerRepair: call(z.tuple([Q.pathSchema]), R.headerRepairResultSchema),
  headerConvert: call(z.tuple([Q.headerConvertRequestSchema]), R.headerConvertResultSchema),
  startRekey: job(z.tuple([rekeyRequestSchema])),
  headerBackup: call(z.tuple([Q.headerBackupRequestSchema]), R.headerBackupResultSchema),
  headerRestore: call(z.tuple([Q.headerRestoreRequestSchema]), R.headerRestoreResultSchema),
  preflight: call(z.tuple([Q.preflightRequestSchema]), R.preflightReportSchema),
} as const satisfies Record<string, OperationSpec>;

/** The name of an operation of the contract. */
export type OperationName = keyof typeof OPERATIONS;

/** Every operation name, in table order (one IPC channel, HTTP route and bridge method each). */
export const OPERATION_NAMES = Object.freeze(Object.keys(OPERATIONS)) as readonly OperationName[];

/** True when `name` is an operation of the contract (not a prototype key). */
export function isOperation(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}

/** The IPC channel of an operation: `vault:inspect`, … */
export const channelFor = (op: OperationName): string => `vault:${op}`;
/** The IPC channel on which main pushes `VaultEvent`s to the window. */
export const EVENT_CHANNEL = 'vault:event';

/**
 * What a call over IPC resolves to. Electron keeps only the message of an Error thrown in a
 * handler (docs/design/electron-conventions.md §3), so failures travel as values.
 */
export type IpcEnvelope<T = unknown> =
  | { ok: true; result: T }
  | { ok: false; error: { code: import('./errors.js').ErrorCode; message: string } };

/** The operations as the preload exposes them: same arguments, envelopes back. */
export type BridgedOperations = {
  [K in OperationName]: (
    ...args: Parameters<VaultApi[K]>
  ) => Promise<IpcEnvelope<Awaited<ReturnType<VaultApi[K]>>>>;
};

/** `window.vault` as the preload exposes it. */
export type ElectronVaultBridge = BridgedOperations & {
  subscribe(listener: (event: import('./types.js').VaultEvent) => void): () => void;
  /** The absolute path of a dropped file (Electron's `webUtils.getPathForFile`). */
  getPathForFile(file: File): string;
};

// ---- Compile-time checks: the table and the hand-written types say the same thing. ----

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

/** `VaultApi` as the table defines it. */
type TableApi = {
  [K in OperationName]: (
    ...args: z.input<(typeof OPERATIONS)[K]['args']>
  ) => Promise<z.output<(typeof OPERATIONS)[K]['result']>>;
};

type _SameOperations = Assert<Equals<OperationName, Exclude<keyof VaultApi, 'subscribe'>>>;
type _SameSignatures = Assert<
  Equals<
    { [K in OperationName]: Parameters<VaultApi[K]> },
    { [K in OperationName]: Parameters<TableApi[K]> }
  >
>;
type _SameResults = Assert<
  Equals<
    { [K in OperationName]: Awaited<ReturnType<VaultApi[K]>> },
    { [K in OperationName]: Awaited<ReturnType<TableApi[K]>> }
  >
>;
type _SameEvents = Assert<
  Equals<z.output<typeof R.vaultEventSchema>, import('./types.js').VaultEvent>
>;
