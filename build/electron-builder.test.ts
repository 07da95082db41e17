// Validates build/electron-builder.yml and the after-pack hook without packaging anything.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// js-yaml ships with electron-builder (a devDependency), which parses this file the same way.
const yaml = require('js-yaml') as { load(text: string): unknown };
interface Config {
  linux: { target: string[]; category: string; maintainer: string; icon: string };
  deb: { recommends: string[] };
  asar: boolean;
  afterPack: string;
  files: string[];
  directories: { output: string };
}
const config = yaml.load(readFileSync(here('./electron-builder.yml'), 'utf8')) as Config;

describe('electron-builder config', () => {
  it('builds AppImage and deb for Linux with icons, category and maintainer', () => {
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.match(config.linux.category, /Utility/);
    assert.match(config.linux.category, /System/);
    assert.match(config.linux.maintainer, /<[^@\s]+@[^>\s]+>/);
    assert.equal(config.linux.icon, 'build/icons');
    for (const s of [16, 32, 48, 64, 128, 256, 512])
      assert.ok(existsSync(here(`./icons/${s}x${s}.png`)), `${s}px icon`);
  });
  it('recommends qemu-utils for the deb', () => {
    assert.ok(config.deb.recommends.includes('qemu-utils'));
  });
  it('packs only built output into an asar and runs the fuse hook', () => {
    assert.equal(config.asar, true);
    assert.equal(config.afterPack, 'build/after-pack.cjs');
    assert.ok(config.files.includes('dist/renderer/**'));
    assert.ok(
      !config.files.some(
        (f: string) => f === '**/*' || f.startsWith('core/') || f.startsWith('node_modules')
      )
    );
    assert.equal(config.directories.output, 'release');
  });
  it('after-pack flips the fuses the conventions ask for', () => {
    const hook = require(here('./after-pack.cjs')) as { FUSES: Record<string, boolean> } & ((
      c: unknown
    ) => Promise<void>);
    assert.equal(typeof hook, 'function');
    assert.deepEqual(
      { ...hook.FUSES },
      {
        RunAsNode: false,
        EnableCookieEncryption: true,
        EnableNodeOptionsEnvironmentVariable: false,
        EnableNodeCliInspectArguments: false,
        OnlyLoadAppFromAsar: true,
        EnableEmbeddedAsarIntegrityValidation: true,
        GrantFileProtocolExtraPrivileges: false,
      }
    );
  });
  it('after-pack ignores non-Linux builds without needing @electron/fuses', async () => {
    const hook = require(here('./after-pack.cjs')) as (c: unknown) => Promise<void>;
    await hook({ electronPlatformName: 'darwin' });
  });
});
