/**
 * Pieces of the import wizard (issue #6): the bundle summary from its manifest, the libvirt
 * option with the host-bound-secret explanation, and the result with disk XML and steps.
 */
import { useId, type ReactNode } from 'react';
import type { BundleSummary } from '../bridge/bundle.js';
import { CopyBlock } from '../components/CopyBlock.js';
import { Icon } from '../components/Icon.js';
import { formatBytes } from '../lib/format.js';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

/** What the manifest says, before anything is copied. */
export function BundleSummaryCard({ bundle }: { bundle: BundleSummary }) {
  return (
    <article className="card inset" aria-label="Bundle summary">
      <dl className="facts">
        <Fact label="For">{bundle.recipient ?? <span className="muted">not named</span>}</Fact>
        <Fact label="Disk image">
          {bundle.image}{' '}
          <span className="muted">
            ({bundle.format ?? 'image'}, file {formatBytes(bundle.fileSize)})
          </span>
        </Fact>
        {bundle.virtualSize !== undefined && (
          <Fact label="Disk size seen by the VM">{formatBytes(bundle.virtualSize)}</Fact>
        )}
        <Fact label="Cipher">{bundle.cipher ?? 'unknown'}</Fact>
        <Fact label="LUKS UUID">
          <code>{bundle.luksUuid ?? 'unknown'}</code>
        </Fact>
        <Fact label="Checksum (SHA-256)">
          {bundle.sha256 ? (
            <>
              <code className="break">{bundle.sha256}</code>
              <span className="muted small"> · verified while importing</span>
            </>
          ) : (
            <span className="muted">verified from manifest.json while importing</span>
          )}
        </Fact>
        {bundle.createdAt && (
          <Fact label="Created">{new Date(bundle.createdAt).toLocaleString()}</Fact>
        )}
        {bundle.freshMasterKey !== undefined && (
          <Fact label="Master key">
            {bundle.freshMasterKey
              ? 'Fresh: re-encrypted for you'
              : 'Kept from the sender’s image (the sender’s old key material still opens it)'}
          </Fact>
        )}
        <Fact label="Opens with">
          {bundle.sealedTo
            ? `your key: sealed to ${bundle.sealedTo.map((k) => `${k.type} ${k.fingerprint}`).join(', ')}`
            : 'the passphrase the sender gave you separately'}
        </Fact>
        <Fact label={bundle.layout === 'tar' ? 'Bundle file' : 'Files'}>
          {bundle.layout === 'tar' ? bundle.dir : bundle.files.map((f) => f.name).join(', ')}
        </Fact>
      </dl>
    </article>
  );
}

/** "Set up libvirt for unattended boot" with the connection URI and why secrets are per host. */
export function LibvirtOption(props: {
  enabled: boolean;
  onEnabled: (v: boolean) => void;
  uri: string;
  onUri: (v: string) => void;
}) {
  const uriId = useId();
  return (
    <div className="stack">
      <label className="check">
        <input
          type="checkbox"
          checked={props.enabled}
          onChange={(e) => props.onEnabled(e.target.checked)}
        />
        Set up libvirt for unattended boot
      </label>
      <p className="hint">
        <Icon name="info" size={14} />
        <span>
          libvirt keeps the passphrase as a secret on this computer so the VM starts without asking.
          The secret is bound to this host: it never travels with the disk or its XML, and has to be
          defined again on any other host that runs the VM. Administrators of this computer can read
          it.
        </span>
      </p>
      <div hidden={!props.enabled} className="field">
        <label htmlFor={uriId}>libvirt connection</label>
        <input
          id={uriId}
          value={props.uri}
          spellCheck={false}
          onChange={(e) => props.onUri(e.target.value)}
        />
        <p className="hint">
          qemu:///system for system VMs (needs rights), qemu:///session for yours.
        </p>
      </div>
    </div>
  );
}

/** Retrying a failed step of a passphrase bundle: the passphrases are needed once more. */
export const RETYPE =
  'Type the passphrases again. The image is already imported: only the step that failed runs.';

const STEP_NAMES: Record<string, string> = {
  verify: 'check the bundle and its signature',
  copy: 'copy and verify the image',
  rekey: 'replace the sender’s secret',
  'define-secret': 'set up the libvirt secret',
};

/** Result of a finished import: verification, rotation, disk XML and libvirt steps. */
export function ImportResult({
  result,
  onRetry,
}: {
  result: Record<string, unknown>;
  onRetry?: () => unknown;
}) {
  const report = Array.isArray(result.report)
    ? (result.report as { step: string; ok: boolean; detail: string; code?: string }[])
    : [];
  const failed = report.filter((r) => !r.ok);
  const rotated = result.rotated === true;
  const removed = Array.isArray(result.removedSlots) ? (result.removedSlots as number[]) : [];
  const defined = result.secretDefined === true;
  const diskXml = typeof result.diskXml === 'string' ? result.diskXml : '';
  const secretXml = typeof result.secretXml === 'string' ? result.secretXml : '';
  const uuid = typeof result.secretUuid === 'string' ? result.secretUuid : '';
  const steps = Array.isArray(result.steps)
    ? (result.steps as unknown[]).filter((s): s is string => typeof s === 'string')
    : [];
  return (
    <div className="stack">
      <div className={`alert ${failed.length ? 'warn' : 'success'}`} role="status">
        <Icon name={failed.length ? 'warning' : 'shield'} />
        <div>
          <strong>
            {failed.length
              ? `Imported, but ${failed.length === 1 ? 'one step' : 'some steps'} failed.`
              : 'Import finished.'}
          </strong>
          {report.length === 0 && (
            <p>The checksum matched and the handed-over passphrase opened the image.</p>
          )}
          {report.length === 0 && (
            <p>
              {rotated
                ? `Your own passphrase opens it now${removed.length > 0 ? '; the handed-over one was removed' : ''}.`
                : 'It still opens with the handed-over passphrase. Change it soon.'}
            </p>
          )}
        </div>
      </div>
      {report.length > 0 && (
        <ul className="file-list" aria-label="Import steps">
          {report.map((r) => (
            <li key={r.step}>
              <Icon name={r.ok ? 'check' : 'warning'} />
              <span className="grow">
                <strong>
                  {r.ok ? 'Done' : 'Failed'}: {STEP_NAMES[r.step] ?? r.step}
                </strong>
                <span className="muted small"> · {r.detail}</span>
              </span>
            </li>
          ))}
        </ul>
      )}
      {failed.some((r) => r.step === 'define-secret') && (
        <div className="stack">
          <p className="hint">
            The image is imported and re-keyed; only the libvirt step failed. Fix the cause (is
            libvirtd running? the connection right?) and retry just that step.
          </p>
          {onRetry ? (
            <div>
              <button type="button" className="button primary" onClick={onRetry}>
                Retry setting up libvirt
              </button>
            </div>
          ) : (
            <p className="hint">
              Run the same import again (same bundle, same target): only this step runs.
            </p>
          )}
        </div>
      )}
      {diskXml && <CopyBlock label="Disk XML (add it to the VM’s <devices>)" text={diskXml} />}
      {defined ? (
        <p className="alert success" role="status">
          <Icon name="check" /> Secret defined in libvirt ({uuid}). The VM can boot unattended.
        </p>
      ) : (
        <div className="stack">
          <h3>Set up libvirt by hand</h3>
          <ol className="plan-steps">
            {steps.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ol>
          {steps.length > 0 && <CopyBlock label="Steps" text={steps.join('\n')} />}
          {secretXml && <CopyBlock label="Secret XML" text={secretXml} />}
        </div>
      )}
    </div>
  );
}
