/** Which commands start the crypto workers ahead of time. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { needsCryptoWorkers } from './main.js';

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
