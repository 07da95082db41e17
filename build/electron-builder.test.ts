// The packaging config (build/electron-builder.yml), checked by electron-builder itself: its own
// schema validation, and a real `dir` build (its own file matching, asar packing and resources)
// with a stand-in Electron binary, since none can be downloaded here (docs/DESIGN.md constraint 1).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('..');
// js-yaml ships with electron-builder, which parses this file the same way.
const yaml = require('js-yaml') as { load(text: string): unknown };
type Config = Record<string, unknown> & {
  linux: { target: string[]; category: string; maintainer: string; icon: string };
  deb: { depends: string[]; recommends: string[] };
};
const loadConfig = () => yaml.load(readFileSync(here('./electron-builder.yml'), 'utf8')) as Config;
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (on: boolean) => unknown };
const asar = require('@electron/asar') as { listPackage(path: string): string[] };

describe('electron-builder config', () => {
  it("passes electron-builder's own schema, and a wrong key fails it", async () => {
    await validateConfiguration(loadConfig(), new DebugLogger(false));
    const wrong = loadConfig();
    (wrong.linux as Record<string, unknown>).exectuableName = 'typo';
    await assert.rejects(
      validateConfiguration(wrong, new DebugLogger(false)),
      /configuration\.linux should/
    );
  });

  it('builds AppImage and deb for Linux with icons, category and maintainer', () => {
    const config = loadConfig();
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.match(config.linux.category, /Utility/);
    assert.match(config.linux.maintainer, /<[^@\s]+@[^>\s]+>/);
    for (const s of [16, 32, 48, 64, 128, 256, 512])
      assert.ok(existsSync(here(`./icons/${s}x${s}.png`)), `${s}px icon`);
  });

  it("keeps electron-builder's default deb dependencies the app needs", () => {
    const { depends, recommends } = loadConfig().deb;
    for (const dep of ['xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0', 'libnss3'])
      assert.ok(depends.includes(dep), dep);
    assert.ok(recommends.includes('qemu-utils'));
  });

  it('after-pack flips the fuses the conventions ask for (RunAsNode stays on for the CLI)', () => {
    const hook = require(here('./after-pack.cjs')) as { FUSES: Record<string, boolean> };
    assert.deepEqual(
      { ...hook.FUSES },
      {
        RunAsNode: true,
        EnableCookieEncryption: true,
        EnableNodeOptionsEnvironmentVariable: false,
        EnableNodeCliInspectArguments: false,
        OnlyLoadAppFromAsar: true,
        EnableEmbeddedAsarIntegrityValidation: true,
        GrantFileProtocolExtraPrivileges: false,
      }
    );
  });
});

describe('a dir build with a stand-in Electron', () => {
  let work: string;
  let app: string;
  let packed: string[];
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'iv-package-'));
    const dist = join(work, 'electron-dist');
    // The stand-in Electron: in Node mode (all the package's CLI uses) it is this Node.
    await require('node:fs/promises').mkdir(dist);
    const stub = join(dist, 'electron');
    await writeFile(
      stub,
      `#!/bin/sh\n[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo 'stand-in: Node mode only' >&2; exit 3; }\nexec '${process.execPath}' "$@"\n`
    );
    await chmod(stub, 0o755);
    await writeFile(join(dist, 'LICENSE'), 'stand-in');
    const config = loadConfig();
    delete config.afterPack; // the fuses live in a real Electron binary only
    config.electronDist = dist;
    config.electronVersion = (require('electron/package.json') as { version: string }).version;
    config.directories = { ...(config.directories as object), output: join(work, 'out') };
    const { build, Platform } = require('electron-builder') as {
      build(o: unknown): Promise<string[]>;
      Platform: { LINUX: { createTarget(t: string): unknown } };
    };
    await build({ projectDir: root, targets: Platform.LINUX.createTarget('dir'), config });
    app = join(work, 'out', 'linux-unpacked');
    packed = asar.listPackage(join(app, 'resources', 'app.asar')).map((f) => f.slice(1));
  });
  after(async () => rm(work, { recursive: true, force: true }));

  const unpacked = (rel: string) => join(app, 'resources', 'app.asar.unpacked', rel);

  it('packs the main process and the preload main loads', () => {
    assert.ok(packed.includes('dist/electron/main/index.js'));
    assert.ok(packed.includes('dist/electron/preload/index.cjs'));
  });

  it('keeps the workers, the CLI, the renderer and their modules outside app.asar', () => {
    for (const rel of [
      'dist/core/crypto/crypto-worker.js',
      'dist/core/crypto/kdf-worker.js',
      'node_modules/@phi-ag/argon2/dist/argon2.wasm',
      'dist/core/cli/main.js',
      'bin/image-vault.js',
      'dist/renderer/index.html',
      'node_modules/@noble/hashes/package.json',
      // The native route (README "Image locks"): koffi and its prebuilt binary for this platform.
      'node_modules/koffi/index.cjs',
      `node_modules/@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`,
      'package.json',
    ]) {
      assert.ok(existsSync(unpacked(rel)), `${rel} is not unpacked`);
    }
  });

  it('packs no test, test helper, source map or UI library meant for the bundle', () => {
    const bad = packed.filter((f) =>
      /\.test\.js$|\/testing\/|\.map$|\.d\.ts$|node_modules\/(react|react-dom|zustand|typescript|electron)\//.test(
        f
      )
    );
    assert.deepEqual(bad, []);
    assert.ok(!existsSync(unpacked('dist/core/testing')));
    assert.ok(!existsSync(unpacked('node_modules/react')));
  });

  it('ships the command line with its man page and completions', async () => {
    const cli = join(app, 'resources', 'bin', 'image-vault');
    assert.ok(statSync(cli).mode & 0o111, 'the CLI wrapper is executable');
    for (const rel of [
      'share/man/man1/image-vault.1',
      'share/bash-completion/completions/image-vault',
      'share/zsh/vendor-completions/_image-vault',
    ]) {
      assert.ok(existsSync(join(app, 'resources', rel)), rel);
    }
    const run = promisify(execFile);
    const { stdout } = await run(cli, ['--version']);
    assert.match(stdout, /^image-vault \d+\.\d+\.\d+/);
    const img = join(work, 'disk.img');
    await writeFile(img, Buffer.alloc(1024 * 1024));
    // Every open takes its image lock through koffi (none without it): reading proves the
    // packaged native route loads.
    const info = JSON.parse((await run(cli, ['info', '--json', img])).stdout);
    assert.equal(info.format, 'raw');
    assert.equal(info['virtual-size'], 1024 * 1024);
  });
});
