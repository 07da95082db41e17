/** Parsing of qemu-img's secret spellings (core/cli/secrets.ts); reading is in the interop suite. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from './args.js';
import { parseImageOpts, parseSecretObjects, splitQemuOptions } from './secrets.js';

const objects = (...list: string[]) =>
  parseSecretObjects(
    parseArgs(
      list.flatMap((o) => ['--object', o]),
      { values: ['object'], flags: [] }
    )
  );

describe('qemu-img secret spellings', () => {
  test('",," is a literal comma, as in qemu option strings', () => {
    assert.deepEqual(splitQemuOptions('secret,id=a,file=/x,,y'), ['secret', 'id=a', 'file=/x,y']);
  });

  test('--object secret: file, format and the qom-type= spelling', () => {
    const s = objects('secret,id=a,file=/p/a', 'qom-type=secret,id=b,file=/p/b,format=base64');
    assert.deepEqual(s.get('a'), { file: '/p/a', format: 'raw' });
    assert.deepEqual(s.get('b'), { file: '/p/b', format: 'base64' });
  });

  test('data=, other object types, unknown keys and repeated ids are refused', () => {
    const refused = (o: string[], re: RegExp) =>
      assert.throws(
        () => objects(...o),
        (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && re.test(e.message)
      );
    refused(['secret,id=a,data=pw'], /readable by every user/);
    refused(['tls-creds-x509,id=t,dir=/x'], /only secret objects/);
    refused(['secret,id=a,file=/x,keyid=k'], /"keyid" is not supported/);
    refused(['secret,id=a,file=/x', 'secret,id=a,file=/y'], /repeated/);
    refused(['secret,file=/x'], /needs id=ID/);
  });

  test('--image-opts: one secret id per layer, other keys refused', () => {
    const o = parseImageOpts(
      'driver=qcow2,file.driver=file,file.filename=/i/top.qcow2,encrypt.key-secret=t,backing.backing.encrypt.key-secret=bb'
    );
    assert.equal(o.filename, '/i/top.qcow2');
    assert.equal(o.driver, 'qcow2');
    assert.deepEqual([...o.layerSecrets], ['t', undefined, 'bb']);
    assert.deepEqual(parseImageOpts('driver=luks,file.filename=/l,key-secret=k').layerSecrets, [
      'k',
    ]);
    assert.throws(
      () => parseImageOpts('driver=qcow2,file.filename=/x,cache.direct=on'),
      /cache\.direct/
    );
    assert.throws(() => parseImageOpts('driver=vmdk,file.filename=/x'), /driver=vmdk/);
    assert.throws(() => parseImageOpts('driver=qcow2'), /file\.filename/);
  });
});
