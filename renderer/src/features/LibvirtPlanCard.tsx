/**
 * "Run it in libvirt" card on a LUKS image's details: the secret XML, the disk XML and the
 * steps from `api.libvirtPlan`, each copyable. Nothing in it is secret: the passphrase is
 * given to libvirt separately, by the steps.
 */
import { useState } from 'react';
import type { LibvirtPlan } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { CopyBlock } from '../components/CopyBlock.js';
import { Icon } from '../components/Icon.js';

export function LibvirtPlanCard({ path }: { path: string }) {
  const [plan, setPlan] = useState<LibvirtPlan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      setPlan(await api().libvirtPlan(path));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="card" aria-labelledby="libvirt-title">
      <header className="row spread">
        <div>
          <h2 id="libvirt-title">Run it in libvirt</h2>
          <p className="muted small">
            What libvirt needs to boot this disk without asking for the passphrase. Nothing shown
            here is secret.
          </p>
        </div>
        <button type="button" className="button" disabled={busy} onClick={() => void load()}>
          <Icon name={plan ? 'refresh' : 'chevron-right'} />
          {plan ? 'New secret UUID' : busy ? 'Preparing…' : 'Show libvirt setup'}
        </button>
      </header>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      {plan && (
        <div className="stack">
          <p className="small">
            Secret UUID <code>{plan.secretUuid}</code>
          </p>
          <ol className="plan-steps" aria-label="libvirt steps">
            {plan.steps.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ol>
          <div className="grid-2 top">
            <CopyBlock label="Secret XML" text={plan.secretXml} />
            <CopyBlock label="Disk XML" text={plan.diskXml} />
          </div>
          <CopyBlock label="Steps" text={plan.steps.join('\n')} />
        </div>
      )}
    </article>
  );
}
