/** The window: sidebar navigation, the current screen, dialogs, notices and file drops. */
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, bridgeMode, pathForDroppedFile } from '../bridge/index.js';
import { FileBrowser } from '../components/FileBrowser.js';
import { Icon, type IconName } from '../components/Icon.js';
import { ConvertDialog } from '../features/ConvertDialog.js';
import { CreateWizard } from '../features/CreateWizard.js';
import { Details } from '../features/Details.js';
import { ExportWizard } from '../features/ExportWizard.js';
import { ImportWizard } from '../features/ImportWizard.js';
import { JobsPanel } from '../features/JobsPanel.js';
import { KeyslotDialog } from '../features/KeyslotDialog.js';
import { Library } from '../features/Library.js';
import { MigrateWizard } from '../features/MigrateWizard.js';
import { useStore } from '../store/index.js';
import type { Screen } from '../store/ui-slice.js';

/** Opens an image and, for legacy AES, offers the migration right away. */
export async function openAndOffer(path: string): Promise<void> {
  const s = useStore.getState();
  const info = await s.openImage(path);
  if (info?.encryption?.format === 'aes') s.openWizard({ kind: 'migrate', source: info.path });
  // Raw has no signature: say at once when the file does not look like a disk (a text file…).
  else if (info?.format === 'raw' && info.warnings.length > 0) s.notify('error', info.warnings[0]!);
}

function NavItem({
  screen,
  icon,
  label,
  badge,
}: {
  screen: Screen;
  icon: IconName;
  label: string;
  badge?: number;
}) {
  const current = useStore((s) => s.screen);
  const go = useStore((s) => s.go);
  const active = current === screen || (screen === 'library' && current === 'details');
  return (
    <li>
      <button
        type="button"
        className={`nav-item ${active ? 'active' : ''}`}
        aria-current={active ? 'page' : undefined}
        onClick={() => go(screen)}
      >
        <Icon name={icon} />
        <span className="grow">{label}</span>
        {badge ? (
          <span className="count" aria-label={`${badge} running`}>
            {badge}
          </span>
        ) : null}
      </button>
    </li>
  );
}

export function App() {
  const screen = useStore((s) => s.screen);
  const wizard = useStore((s) => s.wizard);
  const close = useStore((s) => s.closeWizard);
  const notices = useStore(useShallow((s) => s.notices));
  const dismiss = useStore((s) => s.dismiss);
  const running = useStore(
    (s) => Object.values(s.jobs).filter((j) => j.state === 'running').length
  );
  const [dragging, setDragging] = useState(false);
  const mode = bridgeMode();

  useEffect(() => {
    const { upsertJob, loadJobs, loadLibraryInfos } = useStore.getState();
    void loadJobs();
    // The bridge is connected before the first render: the remembered images can be read now.
    void loadLibraryInfos();
    return api().subscribe((e) => {
      if (e.type === 'job') upsertJob(e.job);
    });
  }, []);

  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      const paths = files.map((f) => pathForDroppedFile(f)).filter((p): p is string => !!p);
      if (files.length > 0 && paths.length === 0) {
        useStore
          .getState()
          .notify(
            'info',
            'This browser does not reveal where a dropped file lives. Pick it with Open… instead.'
          );
        useStore.getState().openWizard({ kind: 'open' });
        return;
      }
      for (const p of paths) void openAndOffer(p);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return (
    <div className={`app ${dragging ? 'dragging' : ''}`}>
      <aside className="sidebar">
        <div className="brand">
          <img src="./favicon.svg" alt="" width={28} height={28} />
          <span>Image Vault</span>
        </div>
        <nav aria-label="Main">
          <ul>
            <NavItem screen="library" icon="library" label="Library" />
            <NavItem screen="jobs" icon="activity" label="Jobs" badge={running} />
          </ul>
        </nav>
        <div className="sidebar-foot muted small">
          {mode === 'loopback' && (
            <>
              <Icon name="shield" size={14} /> Local session on this computer
            </>
          )}
          {mode === 'electron' && (
            <>
              <Icon name="shield" size={14} /> Desktop app
            </>
          )}
        </div>
      </aside>
      <main className="content">
        {screen === 'library' && <Library />}
        {screen === 'details' && <Details />}
        {screen === 'jobs' && <JobsPanel />}
      </main>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <Icon name={mode === 'electron' ? 'upload' : 'folder'} size={48} />
          {mode === 'electron' ? (
            <p>Drop to open</p>
          ) : (
            <p>
              A browser does not reveal where a dropped file is.
              <br />
              Release to pick it with Open… instead.
            </p>
          )}
        </div>
      )}
      {wizard?.kind === 'create' && <CreateWizard onClose={close} />}
      {wizard?.kind === 'migrate' && <MigrateWizard source={wizard.source} onClose={close} />}
      {wizard?.kind === 'export' && <ExportWizard source={wizard.source} onClose={close} />}
      {wizard?.kind === 'import' && <ImportWizard onClose={close} />}
      {wizard?.kind === 'convert' && <ConvertDialog source={wizard.source} onClose={close} />}
      {wizard?.kind === 'keyslot' && (
        <KeyslotDialog
          action={wizard.action}
          path={wizard.path}
          slot={wizard.slot}
          onClose={close}
        />
      )}
      {wizard?.kind === 'open' && (
        <FileBrowser
          mode="file"
          title="Open a disk image"
          onClose={close}
          onPick={(p) => {
            close();
            void openAndOffer(p);
          }}
        />
      )}
      <div className="notices" role="region" aria-label="Notifications" aria-live="polite">
        {notices.map((n) => (
          <div
            key={n.id}
            className={`notice ${n.tone}`}
            role={n.tone === 'error' ? 'alert' : 'status'}
          >
            <span className="grow">{n.text}</span>
            <button
              type="button"
              className="icon-button"
              aria-label="Dismiss"
              onClick={() => dismiss(n.id)}
            >
              <Icon name="x" size={14} />
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}

/** Shown when the served page was opened without its `#token=…` link. */
export function Locked() {
  return (
    <main className="locked">
      <img src="./favicon.svg" alt="" width={56} height={56} />
      <h1>Open the link printed by image-vault serve</h1>
      <p className="muted">
        For your safety this page only works with the private link (it ends in <code>#token=…</code>
        ) that <code>image-vault serve</code> printed in your terminal. Reloading keeps your session
        until the browser closes; a new browser session, or a restarted server, needs the link
        again.
      </p>
    </main>
  );
}

/** Shown in the desktop window when its preload did not provide the bridge to main. */
export function NoBridge() {
  return (
    <main className="locked" role="alert">
      <img src="./favicon.svg" alt="" width={56} height={56} />
      <h1>Image Vault could not start</h1>
      <p className="muted">
        The window has no connection to the app&apos;s main process (its preload script did not
        load), so nothing can be read or written. Reinstall Image Vault; if you built it yourself,
        run <code>npm run build</code> and check that <code>dist/electron/preload/index.cjs</code>{' '}
        exists.
      </p>
    </main>
  );
}
