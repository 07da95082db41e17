/** Which commands start the crypto and KDF workers ahead of time. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchDir } from '../testing/peers.js';
import { needsCryptoWorkers, needsKdfWorker, smallJob } from './main.js';

describe('needsCryptoWorkers', () => {
  it('is true for migrate, bundle and encrypting or decrypting converts only', () => {
    assert.equal(needsCryptoWorkers('migrate', ['a', 'b']), true);
    assert.equal(needsCryptoWorkers('bundle', ['export', 'a']), true);
    assert.equal(needsCryptoWorkers('convert', ['--encrypt', 'a', 'b']), true);
    assert.equal(needsCryptoWorkers('convert', ['-O', 'luks', 'a', 'b']), true);
    assert.equal(needsCryptoWorkers('convert', ['--source-passphrase-file', 'p', 'a', 'b']), true);
    assert.equal(needsCryptoWorkers('convert', ['--passphrase-fd', '3', 'a', 'b']), true);
    assert.equal(needsCryptoWorkers('convert', ['-O', 'qcow2', 'a', 'b']), false);
    assert.equal(needsCryptoWorkers('convert', ['--encrypt', '--help']), false);
    assert.equal(needsCryptoWorkers('info', ['a']), false);
    assert.equal(needsCryptoWorkers('create', ['--encrypt', 'a', '1G']), false);
  });
});

describe('needsKdfWorker', () => {
  it('is true when a passphrase or secret is named, unless help is asked for', () => {
    assert.equal(needsKdfWorker(['--source-passphrase-file', 'p', 'a', 'b']), true);
    assert.equal(needsKdfWorker(['test', 'img', '--passphrase-fd', '3']), true);
    assert.equal(needsKdfWorker(['--object', 'secret,id=s,file=p', 'a']), true);
    assert.equal(needsKdfWorker(['--old-secret', 's', 'a', 'b']), true);
    assert.equal(needsKdfWorker(['-O', 'qcow2', 'a', 'b']), false);
    assert.equal(needsKdfWorker(['--passphrase-file', 'p', '--help']), false);
    assert.equal(needsKdfWorker(['secret.raw']), false);
  });
});

describe('smallJob', () => {
  it('counts allocated bytes of the named files, not their size', async () => {
    const { dir, cleanup } = await scratchDir();
    try {
      const sparse = join(dir, 'sparse.raw');
      const dense = join(dir, 'dense.raw');
      const a = await open(sparse, 'w');
      await a.truncate(20 * 2 ** 30);
      await a.write(Buffer.alloc(1 << 20, 1), 0, 1 << 20, 2 ** 30);
      await a.close();
      const b = await open(dense, 'w');
      await b.write(Buffer.alloc(65 << 20, 1));
      await b.close();
      assert.equal(smallJob(['--encrypt', '-O', 'qcow2', sparse, join(dir, 'new.qcow2')]), true);
      assert.equal(smallJob(['--encrypt', dense, join(dir, 'new.qcow2')]), false);
    } finally {
      await cleanup();
    }
  });
});
