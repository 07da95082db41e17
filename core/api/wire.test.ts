import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase64, encodeBase64, encodeBytes, reviveBytes } from './wire.js';

describe('byte codec (core/api/wire.ts)', () => {
  it('matches Node base64 both ways for every length 0..66 and random bytes', () => {
    for (let n = 0; n <= 66; n++) {
      const bytes = new Uint8Array(n).map(() => Math.floor(Math.random() * 256));
      const text = encodeBase64(bytes);
      assert.equal(text, Buffer.from(bytes).toString('base64'));
      assert.deepEqual(decodeBase64(text), bytes);
    }
  });

  it('refuses text that is not base64, instead of guessing', () => {
    for (const bad of ['a', 'ab=c', '!!!!', 'ab==ab==', 'é===', 'abc=x===']) {
      assert.equal(decodeBase64(bad), null, bad);
    }
  });

  it('carries nested Uint8Arrays through JSON and drops undefined fields', () => {
    const value = ['/a', { passphrase: new Uint8Array([0, 255, 10]), n: 1, skip: undefined }];
    const json = JSON.parse(JSON.stringify(encodeBytes(value)));
    assert.deepEqual(json, ['/a', { passphrase: { $b64: 'AP8K' }, n: 1 }]);
    const back = reviveBytes(json) as [string, { passphrase: Uint8Array; n: number }];
    assert.ok(back[1].passphrase instanceof Uint8Array);
    assert.deepEqual([...back[1].passphrase], [0, 255, 10]);
  });

  it('drops trailing undefined arguments (optional ones) instead of sending null', () => {
    assert.equal(JSON.stringify(encodeBytes([undefined])), '[]');
    assert.equal(JSON.stringify(encodeBytes(['/a', undefined, 1, undefined])), '["/a",null,1]');
  });

  it('leaves an invalid { $b64 } in place for the schema to refuse', () => {
    assert.deepEqual(reviveBytes({ $b64: '@@@@' }), { $b64: '@@@@' });
  });
});
