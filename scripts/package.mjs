// `npm run package`: builds, then packs the Linux AppImage and deb with electron-builder
// (build/electron-builder.yml). electron-builder needs an Electron for linux-x64 and, for the
// AppImage and deb targets, its toolsets (the AppImage runtime, fpm), which it downloads from
// GitHub on first use. Where that cannot happen this script says exactly what is missing.
//
//   npm run package                 AppImage + deb into release/
//   npm run package -- --dir        only the unpacked app (release/linux-unpacked), no toolsets
//   ELECTRON_DIST=/path npm run package   use an unpacked Electron instead of downloading one
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build, ensureDependencies, root } from './lib/setup.mjs';

const require = createRequire(join(root, 'package.json'));
const dirOnly = process.argv.includes('--dir');

ensureDependencies();
build();

const electronVersion = require('electron/package.json').version;
const bundled = join(root, 'node_modules', 'electron', 'dist');
const electronDist =
  process.env.ELECTRON_DIST ?? (existsSync(join(bundled, 'electron')) ? bundled : undefined);

const { build: pack, Platform } = require('electron-builder');
const yaml = require('js-yaml');
const { readFileSync } = await import('node:fs');
const config = yaml.load(readFileSync(join(root, 'build', 'electron-builder.yml'), 'utf8'));
if (electronDist) config.electronDist = electronDist;

console.log(
  `• Packaging Image Vault (${dirOnly ? 'unpacked folder' : 'AppImage + deb'}) with Electron ` +
    `${electronVersion}${electronDist ? ` from ${electronDist}` : ' (to be downloaded)'}…`
);
try {
  const artifacts = await pack({
    projectDir: root,
    targets: Platform.LINUX.createTarget(dirOnly ? 'dir' : ['AppImage', 'deb']),
    config,
    publish: 'never',
  });
  for (const a of artifacts) console.log(`  ${a}`);
  console.log(`✓ Packages in ${join(root, 'release')}`);
} catch (e) {
  const text = String(e?.message ?? e);
  const offline = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|github\.com|download/i;
  console.error(`✗ electron-builder failed: ${text.split('\n')[0]}`);
  if (offline.test(text)) {
    console.error(
      [
        '  Packaging needs downloads this machine cannot make:',
        `  - Electron ${electronVersion} for linux-x64 (from GitHub): set ELECTRON_DIST to an`,
        '    unpacked Electron of that version to skip it;',
        "  - for AppImage and deb, electron-builder's toolsets (AppImage runtime, fpm), also",
        '    from GitHub, cached under ~/.cache/electron-builder once fetched.',
        '  `npm run package -- --dir` with ELECTRON_DIST needs neither toolset.',
      ].join('\n')
    );
  }
  process.exit(2);
}
