/**
 * Keyslot dialogs: test, add, change, remove a passphrase, and revoke a keyslot chosen in the
 * grid. Revoking takes the passphrase of another keyslot that stays as proof and a tick that
 * names the slot, as `cryptsetup luksKillSlot` asks (issue #14). The last active slot is
 * protected (explained, removable only with an explicit tick); a wrong passphrase is said as such.
 */
import { useId, useRef, useState } from 'react';
import { api } from '../bridge/index.js';
import { describeError, errorCode } from '../bridge/errors.js';
import { clearInputs, peekPassphrase, wipe } from '../bridge/secret.js';
import {
  AdvancedSettings,
  UnlockTimeField,
  parseUnlockMs,
} from '../components/AdvancedSettings.js';
import { ButtonPair, FooterButton } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { Icon } from '../components/Icon.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { useStore } from '../store/index.js';
import type { KeyslotAction } from '../store/wizards-slice.js';
import { BackupFirstPrompt } from './HeaderBackupCard.js';

const TITLES: Record<KeyslotAction, string> = {
  test: 'Test a passphrase',
  add: 'Add a passphrase',
  change: 'Change a passphrase',
  remove: 'Remove a passphrase',
};
const VERBS: Record<KeyslotAction, string> = {
  test: 'Test',
  add: 'Add passphrase',
  change: 'Change passphrase',
  remove: 'Remove passphrase',
};

export function KeyslotDialog(props: {
  action: KeyslotAction;
  path: string;
  slot?: number;
  onClose: () => void;
}) {
  const { action, path } = props;
  const info = useStore((s) => s.infos[path]);
  const refresh = useStore((s) => s.refreshImage);
  const current = useRef<HTMLInputElement>(null);
  const fresh = useRef<NewPassphraseHandle>(null);
  const [currentProblem, setCurrentProblem] = useState<string | null>(null);
  // A slot chosen in the grid: revoke that keyslot (proof: a passphrase that stays).
  const revoke = action === 'remove' && props.slot !== undefined;
  const [confirmed, setConfirmed] = useState(false);
  const [forceLast, setForceLast] = useState(false);
  const [unlockMs, setUnlockMs] = useState('2000');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const ids = { force: useId(), confirm: useId() };
  const active = info?.encryption?.slots.filter((s) => s.active).length ?? 0;
  const lastOne = action === 'remove' && active <= 1;
  const name = path.slice(path.lastIndexOf('/') + 1);

  const run = async () => {
    setOutcome(null);
    setCurrentProblem(null);
    let pass: Uint8Array | undefined;
    let next: Uint8Array | undefined;
    try {
      if (action === 'add' || action === 'change') {
        // Peeked: a wrong current passphrase keeps the new one (shown under its fields).
        const r = fresh.current?.peek();
        if (!r?.ok) return;
        next = r.bytes;
      }
      if (!current.current?.value) return setCurrentProblem('Type the passphrase first.');
      if (revoke && !lastOne && !confirmed)
        return setOutcome({
          ok: false,
          text: `Tick the box to confirm revoking keyslot ${props.slot}.`,
        });
      pass = peekPassphrase(current.current);
      if (lastOne && !forceLast)
        return setOutcome({
          ok: false,
          text: 'Tick the box to confirm removing the last passphrase.',
        });
      setBusy(true);
      const iterTimeMs = parseUnlockMs(unlockMs);
      let text = '';
      if (action === 'test') {
        const r = await api().keyslotTest(path, pass!);
        text = `Correct: this passphrase opens keyslot ${r.slot}.`;
      } else if (action === 'add') {
        const r = await api().keyslotAdd({
          path,
          passphrase: pass!,
          newPassphrase: next!,
          iterTimeMs,
        });
        text = `Added: the new passphrase is in keyslot ${r.slot}.`;
      } else if (action === 'change') {
        const r = await api().keyslotChange({
          path,
          passphrase: pass!,
          newPassphrase: next!,
          iterTimeMs,
        });
        text = `Changed: the new passphrase is in keyslot ${r.slot}; the old one was removed from keyslot ${r.removed.join(', ')}.`;
      } else {
        const r = await api().keyslotRemove(
          revoke
            ? { path, slot: props.slot, passphrase: pass!, forceLast }
            : { path, passphrase: pass!, forceLast }
        );
        text = `${revoke ? 'Revoked' : 'Removed'} keyslot ${r.removed.join(', ')}.`;
      }
      setOutcome({ ok: true, text });
      clearInputs(current.current);
      fresh.current?.clear();
      if (action !== 'test') void refresh(path);
    } catch (e) {
      const wrong = errorCode(e) === 'WRONG_PASSPHRASE';
      if (wrong) {
        setCurrentProblem(
          revoke
            ? lastOne
              ? `Wrong passphrase: it does not open keyslot ${props.slot}.`
              : `This passphrase does not open any keyslot other than ${props.slot}. Type the passphrase of a keyslot that stays.`
            : describeError(e)
        );
        current.current?.select();
      } else setOutcome({ ok: false, text: describeError(e) });
      if (!wrong) void refresh(path);
    } finally {
      wipe(pass, next);
      setBusy(false);
    }
  };

  const done = outcome?.ok && action !== 'test';
  return (
    <Dialog
      title={revoke ? `Revoke keyslot ${props.slot}` : TITLES[action]}
      subtitle={name}
      onClose={props.onClose}
      busy={busy}
      footer={
        done ? (
          <FooterButton label="Done" onClick={props.onClose} tone="primary" />
        ) : (
          <ButtonPair
            secondary={{ label: outcome?.ok ? 'Close' : 'Cancel', onClick: props.onClose }}
            primary={{
              label: busy ? 'Working…' : revoke ? `Revoke keyslot ${props.slot}` : VERBS[action],
              onClick: () => void run(),
              disabled: busy,
            }}
            tone={action === 'remove' ? 'danger' : 'primary'}
          />
        )
      }
    >
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        {action !== 'test' && !done && <BackupFirstPrompt path={path} />}
        {!done && (
          <PassphraseField
            ref={current}
            label={
              revoke
                ? lastOne
                  ? `Passphrase of keyslot ${props.slot}`
                  : 'A passphrase that stays'
                : action === 'test'
                  ? 'Passphrase'
                  : action === 'remove'
                    ? 'Passphrase to remove'
                    : 'Current passphrase'
            }
            hint={
              revoke && !lastOne
                ? `The passphrase of any keyslot other than ${props.slot}: it proves you may change this image and keeps working afterwards.`
                : action === 'add'
                  ? 'Any passphrase that already opens the image.'
                  : undefined
            }
            autoFocus
            problem={currentProblem}
            onInput={() => setCurrentProblem(null)}
            onEnter={() => void run()}
          />
        )}
        {revoke && !lastOne && !done && (
          <label className="check" htmlFor={ids.confirm}>
            <input
              id={ids.confirm}
              type="checkbox"
              checked={confirmed}
              onChange={(e) => setConfirmed(e.target.checked)}
            />
            Revoke keyslot {props.slot}: the passphrase in it will no longer open this image
          </label>
        )}
        {(action === 'add' || action === 'change') && !done && (
          <>
            <NewPassphrase ref={fresh} onEnter={() => void run()} />
            <AdvancedSettings>
              <UnlockTimeField value={unlockMs} onChange={setUnlockMs} />
            </AdvancedSettings>
          </>
        )}
        {action === 'change' && !done && (
          <p className="hint">
            <Icon name="info" size={14} /> The new passphrase is added to a free keyslot first; only
            then is the old one removed. Copies of the image made earlier still open with the old
            passphrase.
          </p>
        )}
        {lastOne && !done && (
          <div className="alert warn">
            <Icon name="warning" size={20} />
            <div>
              <strong>This is the only passphrase left.</strong>
              <p>
                Without any passphrase nobody, including you, can ever read this image again. Add
                another passphrase first if you want to replace it.
              </p>
              <label className="check" htmlFor={ids.force}>
                <input
                  id={ids.force}
                  type="checkbox"
                  checked={forceLast}
                  onChange={(e) => setForceLast(e.target.checked)}
                />
                Remove the last passphrase anyway and make the data unreadable
              </label>
            </div>
          </div>
        )}
        <button type="submit" hidden />
      </form>
      {outcome && (
        <p
          className={`alert ${outcome.ok ? 'success' : 'error'}`}
          role={outcome.ok ? 'status' : 'alert'}
        >
          <Icon name={outcome.ok ? 'check' : 'warning'} /> {outcome.text}
        </p>
      )}
    </Dialog>
  );
}
