// electron-builder afterPack hook: flip Electron fuses in the packaged binary
/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS hook loaded by electron-builder */
// (docs/design/electron-conventions.md §1: cookie encryption on, NODE_OPTIONS off,
// --inspect off, load the app only from app.asar). `@electron/fuses` is required lazily so
// the config can be validated on machines without it.
'use strict';
const path = require('node:path');

/** The fuse settings, by `FuseV1Options` name. Exported for the config test. */
const FUSES = {
  // On: the package's command line (/usr/bin/image-vault) is this binary in Node mode, as
  // VS Code's `code` is (docs/decisions.md, "Packages").
  RunAsNode: true,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  OnlyLoadAppFromAsar: true,
  EnableEmbeddedAsarIntegrityValidation: true,
  GrantFileProtocolExtraPrivileges: false,
};

function executablePath(context) {
  const name = context.packager.executableName || context.packager.appInfo.productFilename;
  return path.join(context.appOutDir, name);
}

async function afterPack(context) {
  if (context.electronPlatformName !== 'linux') return;
  let fuses;
  try {
    fuses = require('@electron/fuses');
  } catch {
    throw new Error(
      'after-pack: @electron/fuses is not installed; add it to devDependencies to package the app'
    );
  }
  const { flipFuses, FuseVersion, FuseV1Options } = fuses;
  const settings = { version: FuseVersion.V1 };
  for (const [name, value] of Object.entries(FUSES)) settings[FuseV1Options[name]] = value;
  await flipFuses(executablePath(context), settings);
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.FUSES = FUSES;
