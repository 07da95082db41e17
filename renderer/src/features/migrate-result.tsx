/**
 * What a finished migration may claim (docs/DESIGN.md "Data safety"): "verified" means the
 * new image equals the original as decrypted with the passphrase the user gave. When the user
 * overrode the wrong-passphrase heuristic, the result says so plainly, shows the heuristic's
 * verdict, and the wizard offers no "Move original to trash" (issue #14).
 */
import { Icon } from '../components/Icon.js';

interface PassphraseCheck {
  verdict: string;
  sampledSectors: number;
  plausibleSectors: number;
  randomSectors: number;
  explanation: string;
}

function passphraseCheck(result: Record<string, unknown>): PassphraseCheck | null {
  const c = result.passphraseCheck as Partial<PassphraseCheck> | undefined;
  if (!c || typeof c.verdict !== 'string' || typeof c.sampledSectors !== 'number') return null;
  return {
    verdict: c.verdict,
    sampledSectors: c.sampledSectors,
    plausibleSectors: c.plausibleSectors ?? 0,
    randomSectors: c.randomSectors ?? 0,
    explanation: c.explanation ?? '',
  };
}

/** The heuristic's verdict in one line: what was sampled and what it looked like. */
export function describeCheck(c: PassphraseCheck): string {
  const verdict =
    c.verdict === 'plausible'
      ? 'the old passphrase looked right'
      : c.verdict === 'random'
        ? 'the old passphrase looked wrong'
        : 'there was no data to judge the old passphrase by';
  return `Passphrase check before the copy: ${verdict} — of ${c.sampledSectors} sampled sectors, ${c.plausibleSectors} looked like real data and ${c.randomSectors} like random noise.`;
}

export function MigrateResult({ result }: { result: Record<string, unknown> }) {
  const overridden = result.passphraseOverridden === true;
  const check = passphraseCheck(result);
  if (overridden) {
    return (
      <div className="alert warn" role="status">
        <Icon name="warning" />
        <div>
          <strong>Copied, but not proven right: you overrode the passphrase check.</strong>
          <p>
            The new image equals what the passphrase you gave decrypts. That proves nothing about
            the original’s real content: if that passphrase was wrong, the new image holds only
            noise.
          </p>
          {check && <p>{describeCheck(check)}</p>}
          <p>
            Keep the original. Open the new image (for example, boot the VM from it) before you
            remove the original by hand.
          </p>
        </div>
      </div>
    );
  }
  return (
    <div className="alert success" role="status">
      <Icon name="shield" />
      <div>
        <strong>Migration finished.</strong>
        <p>{describeVerification(result)}</p>
        {check && <p className="small">{describeCheck(check)}</p>}
        <p>What should happen to the original AES image?</p>
      </div>
    </div>
  );
}

/** Plain words for the job's verification result (shape defined by the service). */
export function describeVerification(result: Record<string, unknown> | undefined): string {
  const text = result?.verification;
  if (typeof text === 'string') return text;
  const v = result?.verified;
  const base =
    v === true
      ? 'Verified: the new image reads back exactly like the original, decrypted with the old passphrase you gave.'
      : v === false
        ? 'The new image was not verified.'
        : 'The new image was written and checked.';
  const snaps = result?.snapshotsNotCarried;
  const notes: string[] = [];
  if (typeof snaps === 'number' && snaps > 0)
    notes.push(
      `${snaps} internal snapshot${snaps === 1 ? ' was' : 's were'} not carried over (only the current state).`
    );
  if (result?.keptBacking === true) notes.push('It still uses the original backing file.');
  if (typeof result?.resumedFrom === 'number' && result.resumedFrom > 0)
    notes.push('An earlier, interrupted run was resumed.');
  return [base, ...notes].join(' ');
}
