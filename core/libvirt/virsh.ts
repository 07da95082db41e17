/**
 * Applies a libvirt plan with virsh: define the secret, set its value from the passphrase
 * (stdin or a wiped 0600 temp file, never argv), and define/start/destroy domains for the
 * "does it boot unattended" proof (issue #6, "Unattended boot").
 */
import { fail, isVaultError } from '../api/errors.js';
import { secretSteps, DEFAULT_LIBVIRT_URI } from './plan.js';
import { withSecretFile } from './secret-file.js';
import { domainLogPath, logMark, logSince } from './qemu-log.js';
import { checkUuid } from './uuid.js';
import { runVirsh, virshErrorText, VIRSH_MISSING, type VirshTarget } from './virsh-run.js';

export type { VirshTarget } from './virsh-run.js';

/**
 * How the value reaches virsh. `stdin`: `--file /dev/stdin --plain` with the bytes piped in
 * (virsh >= 6.x reads any readable path; checked with libvirt 9.0). `tempfile`: a 0600 file
 * in a 0700 directory, wiped and removed right after.
 */
export type SecretTransport = 'stdin' | 'tempfile';

export interface DefineSecretOptions extends VirshTarget {
  secretXml: string;
  uuid: string;
  passphrase: Uint8Array;
  via?: SecretTransport;
}

function missing(target: VirshTarget, uuid: string): never {
  const steps = secretSteps({
    uri: target.uri ?? DEFAULT_LIBVIRT_URI,
    uuid,
    secretXmlFile: 'secret.xml',
  });
  throw fail(
    'PEER_MISSING',
    `${VIRSH_MISSING}. Install it, or save the secret XML as secret.xml and do by hand: ` +
      steps.map((s, i) => `(${i + 1}) ${s}`).join(' ')
  );
}

/** QEMU refused the disk's passphrase ("Invalid password" in `detail`). */
function unlockFailure(what: string, detail: string) {
  return fail('WRONG_PASSPHRASE', `${what}: QEMU could not unlock the disk (${detail})`);
}

async function virshOk(target: VirshTarget, args: string[], what: string, input?: Uint8Array) {
  const r = await runVirsh(target, args, input);
  if (r.code !== 0) {
    const text = virshErrorText(r);
    if (/Invalid password/i.test(text)) throw unlockFailure(what, text);
    if (/already defined for use with|already exists/i.test(text)) {
      throw fail('EXISTS', `${what}: ${text}`);
    }
    if (/not found|no secret with matching|no domain with matching/i.test(text)) {
      throw fail('NOT_FOUND', `${what}: ${text}`);
    }
    throw fail('IO', `${what}: ${text}`);
  }
  return r;
}

/**
 * Sets the value of an existing secret to `passphrase` (bytes used exactly, trailing newline
 * included). The passphrase buffer is not modified; the caller wipes it.
 */
export async function setSecretValue(
  opts: VirshTarget & { uuid: string; passphrase: Uint8Array; via?: SecretTransport }
): Promise<void> {
  const uuid = checkUuid(opts.uuid);
  if (opts.passphrase.length === 0) {
    throw fail('INVALID_ARGUMENT', 'The passphrase is empty; libvirt would store no value');
  }
  const args = (file: string) => ['secret-set-value', '--secret', uuid, '--file', file, '--plain'];
  const what = 'Setting the libvirt secret value failed';
  if ((opts.via ?? 'stdin') === 'stdin') {
    await virshOk(opts, args('/dev/stdin'), what, opts.passphrase);
  } else {
    await withSecretFile(opts.passphrase, (file) => virshOk(opts, args(file), what));
  }
}

/**
 * Defines (or updates) the secret from `secretXml` with `virsh -c URI secret-define`, then
 * sets its value. Throws `PEER_MISSING` carrying the manual steps when virsh is absent,
 * `EXISTS` when another secret already claims the same volume path.
 */
export async function defineSecret(opts: DefineSecretOptions): Promise<void> {
  const uuid = checkUuid(opts.uuid);
  if (!opts.secretXml.includes(`<uuid>${uuid}</uuid>`)) {
    throw fail('INVALID_ARGUMENT', 'The secret XML does not carry the given UUID');
  }
  try {
    await virshOk(
      opts,
      ['secret-define', '/dev/stdin'],
      'Defining the libvirt secret failed',
      new TextEncoder().encode(opts.secretXml)
    );
    await setSecretValue({ ...opts, uuid });
  } catch (e) {
    if (isVaultError(e, 'PEER_MISSING')) missing(opts, uuid);
    throw e;
  }
}

/** True when a secret with `uuid` is defined on the connection. */
export async function secretExists(opts: VirshTarget & { uuid: string }): Promise<boolean> {
  // `secret-list --uuid` does not exist in virsh 9.0: take the first column of the table.
  const r = await runVirsh(opts, ['secret-list']);
  if (r.code !== 0) throw fail('IO', `Listing libvirt secrets failed: ${virshErrorText(r)}`);
  const uuid = checkUuid(opts.uuid);
  return r.stdout.split('\n').some((l) => l.trim().split(/\s+/)[0]?.toLowerCase() === uuid);
}

/**
 * Removes the secret. Missing secrets are fine (idempotent). virsh 9.0 crashes after a
 * successful `secret-undefine` on the embedded `secret:///embed` driver, so success is judged
 * by the secret being gone, not by the exit status.
 */
export async function undefineSecret(opts: VirshTarget & { uuid: string }): Promise<void> {
  const uuid = checkUuid(opts.uuid);
  const r = await runVirsh(opts, ['secret-undefine', uuid]);
  if (r.code === 0) return;
  if (await secretExists({ ...opts, uuid })) {
    throw fail('IO', `Removing the libvirt secret failed: ${virshErrorText(r)}`);
  }
}

function domainName(domainXml: string): string {
  const m = /<name>([A-Za-z0-9_.-]+)<\/name>/.exec(domainXml);
  if (!m?.[1]) throw fail('INVALID_ARGUMENT', 'The domain XML has no simple <name>');
  return m[1];
}

/**
 * Starts a domain from XML: `persistent` defines it then starts it, otherwise it is created
 * transient. Fails with `WRONG_PASSPHRASE` when QEMU reports "Invalid password" for a disk.
 * A persistent domain that fails to start is undefined again.
 */
export async function defineAndStartDomain(
  opts: VirshTarget & { domainXml: string; persistent?: boolean }
): Promise<{ name: string }> {
  const name = domainName(opts.domainXml);
  const xml = new TextEncoder().encode(opts.domainXml);
  const what = `Starting domain ${name} failed`;
  const log = domainLogPath(opts.uri, name);
  const mark = await logMark(log);
  try {
    if (opts.persistent !== true) {
      await virshOk(opts, ['create', '/dev/stdin'], what, xml);
      return { name };
    }
    await virshOk(opts, ['define', '/dev/stdin'], `Defining domain ${name} failed`, xml);
    try {
      await virshOk(opts, ['start', name], what);
    } catch (e) {
      await runVirsh(opts, ['undefine', name]);
      throw e;
    }
    return { name };
  } catch (e) {
    throw withLogReason(e, what, await logSince(log, mark));
  }
}

/**
 * `e`, or `WRONG_PASSPHRASE` when virsh gave a generic start-up failure but this attempt's
 * QEMU log says the disk could not be unlocked (QEMU exited before libvirt read the reason).
 */
function withLogReason(e: unknown, what: string, log: string): unknown {
  if (!isVaultError(e, 'IO')) return e;
  const line = log.split('\n').find((l) => /Invalid password/i.test(l));
  if (!line) return e;
  return unlockFailure(what, line.trim());
}

/** The domain's state as `virsh domstate` prints it, or null when it does not exist. */
export async function domainState(opts: VirshTarget & { name: string }): Promise<string | null> {
  const r = await runVirsh(opts, ['domstate', opts.name]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** Stops (destroy) and undefines a domain; either step missing is fine. */
export async function destroyAndUndefineDomain(
  opts: VirshTarget & { name: string }
): Promise<void> {
  await runVirsh(opts, ['destroy', opts.name]);
  await runVirsh(opts, ['undefine', opts.name]);
  if ((await domainState(opts)) !== null) {
    throw fail('IO', `Domain ${opts.name} is still defined after destroy and undefine`);
  }
}
