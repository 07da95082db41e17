// `npm start`: builds what is stale, then launches the Electron app where an Electron binary
// and a display exist; otherwise says why in one line and starts `image-vault serve`,
// opening the browser when one is available (docs/DESIGN.md constraint 1).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build, ensureDependencies, hasCommand, root } from './lib/setup.mjs';

ensureDependencies();
build();

function electronBinary() {
  try {
    const require = createRequire(join(root, 'package.json'));
    const pkgDir = join(require.resolve('electron/package.json'), '..');
    const exe = join(pkgDir, 'dist', 'electron');
    if (existsSync(exe)) return exe;
    // Try the package's own downloader once; it fails where GitHub is unreachable.
    const r = spawnSync(process.execPath, [join(pkgDir, 'install.js')], {
      stdio: 'ignore',
      timeout: 60000,
    });
    return r.status === 0 && existsSync(exe) ? exe : null;
  } catch {
    return null;
  }
}

const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const exe = hasDisplay ? electronBinary() : null;
if (exe) {
  const child = spawn(exe, [root], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    hasDisplay
      ? 'Electron is not available on this machine (its binary could not be downloaded); starting the browser UI instead.'
      : 'No display found; starting the browser UI (image-vault serve) instead.'
  );
  const openBrowser = hasDisplay && hasCommand('xdg-open') ? ['--open'] : [];
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'image-vault.js'), 'serve', ...openBrowser],
    {
      stdio: 'inherit',
    }
  );
  const stop = () => child.kill('SIGINT');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => process.exit(code ?? 0));
}
