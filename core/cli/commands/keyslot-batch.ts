/**
 * `image-vault keyslot change|add|remove` over many images (issue #17): positional images
 * and/or `--list FILE`, `--jobs N` at a time, a per-image report at the end (`--json`: the
 * batch report, schema version 1). Runs when more than one image is named, or with `--list`,
 * `--jobs` or `--batch`; one image without them keeps the single-image behaviour.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail } from '../../api/errors.js';
import type { BatchOperation, BatchRequest } from '../../api/types.js';
import { runBatch } from '../../service/batch.js';
import { parseInteger, type ParsedArgs } from '../args.js';
import { batchExitCode, batchItemLine, batchJson, batchSummaryLine } from '../batch-format.js';
import type { CliIo } from '../io.js';
import { givesPassphrase, resolvePassphrase } from '../image-passphrase.js';

/** Options only the batch form has. */
export const BATCH_VALUE_OPTIONS = ['list', 'jobs'];
export const BATCH_FLAGS = ['batch'];

export const BATCH_HELP = `Many images at once: name several IMAGEs and/or --list FILE (one path per line; blank
lines and lines starting with # are ignored; relative paths are taken from the current
folder), --jobs N images at a time (default 2, at most 16). --batch gives one image the
batch behaviour. Passphrases are read once and used for every image. Each image is done on
its own: one held by a VM or another program is skipped (IMAGE_IN_USE, with its holder),
one that fails (wrong passphrase, …) leaves the others alone. Work already done by an
earlier run is reported "unchanged" (change/add: the new passphrase already opens the image;
remove: nothing left to remove), so the same command run again finishes the rest.
The report lists every image: changed, unchanged, skipped (why) or failed (code); --json
prints it as one JSON document (kind "image-vault-batch-report", version 1).
Exit status of a batch: 0 every image changed or already done, 2 some skipped (in use) and
none failed, 3 at least one failed, 130 cancelled (Ctrl-C: no further image is started).`;

const OPERATIONS: Record<string, BatchOperation> = {
  change: 'keyslot-change',
  add: 'keyslot-add',
  remove: 'keyslot-remove',
  rekey: 'rekey',
};

/** Whether `keyslot SUB` with these arguments runs as a batch. */
export function wantsBatch(sub: string | undefined, args: ParsedArgs): boolean {
  if (sub === undefined || !(sub in OPERATIONS)) return false;
  return (
    args.positionals.length > 1 ||
    args.values.has('list') ||
    args.values.has('jobs') ||
    args.flags.has('batch')
  );
}

/** Paths of a list file: one per line, `#` comment lines and blank lines skipped. */
export async function readImageList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw fail('NOT_FOUND', `Cannot read the image list ${file}`, e);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => resolve(l));
}

export async function runKeyslotBatch(
  sub: string,
  args: ParsedArgs,
  kdf: Pick<
    BatchRequest,
    'iterTimeMs' | 'iterations' | 'pbkdf' | 'pbkdfMemoryKiB' | 'pbkdfParallel'
  >,
  slot: number | undefined,
  io: CliIo
): Promise<number> {
  const operation = OPERATIONS[sub] as BatchOperation;
  if (args.flags.has('image-opts')) {
    throw fail(
      'INVALID_ARGUMENT',
      '--image-opts names one image: over many images give the passphrase with --secret ID'
    );
  }
  const paths = args.positionals.map((p) => resolve(p));
  const list = args.values.get('list');
  if (list !== undefined) paths.push(...(await readImageList(list)));
  if (paths.length === 0) throw fail('INVALID_ARGUMENT', 'Name images, or --list FILE');
  const jobsText = args.values.get('jobs');
  const jobs = jobsText === undefined ? undefined : parseInteger(jobsText, '--jobs', 1, 16);
  const json = args.flags.has('json');
  const printed = new Set<string>();

  let passphrase: Uint8Array | undefined;
  let newPassphrase: Uint8Array | undefined;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  try {
    if (operation !== 'keyslot-remove') {
      passphrase = await resolvePassphrase(args, {
        name: 'passphrase',
        prompt: 'Current passphrase: ',
      });
      newPassphrase = await resolvePassphrase(args, {
        name: 'new-passphrase',
        prompt: 'New passphrase: ',
        confirm: true,
      });
    } else if (slot === undefined) {
      if (!givesPassphrase(args, { name: 'passphrase', prompt: '' })) {
        throw fail(
          'INVALID_ARGUMENT',
          'Say which keyslot to remove: --slot N, --passphrase-file F or --secret ID'
        );
      }
      passphrase = await resolvePassphrase(args, {
        name: 'passphrase',
        prompt: 'Passphrase to revoke: ',
      });
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const report = await runBatch(
      {
        operation,
        paths,
        passphrase,
        newPassphrase,
        slot,
        forceLast: args.flags.has('force-last'),
        dropOtherSlots: args.flags.has('drop-other-slots'),
        jobs,
        ...kdf,
      },
      {
        signal: controller.signal,
        onUpdate: (r) => {
          if (json) return;
          // Each image's line as soon as it ends.
          for (const item of r.images) {
            if (item.status === 'pending' || item.status === 'running' || printed.has(item.path)) {
              continue;
            }
            printed.add(item.path);
            io.out(batchItemLine(item));
          }
        },
      }
    );
    if (json) io.out(batchJson(report));
    else io.out(batchSummaryLine(report));
    return batchExitCode(report);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    passphrase?.fill(0);
    newPassphrase?.fill(0);
  }
}
