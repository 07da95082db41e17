/** "The passphrase of the image named IMAGE" (core/cli/image-passphrase.ts): parsing and refusals. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './args.js';
import {
  givesPassphrase,
  namedImage,
  passphraseSecretOptions,
  resolvePassphrase,
  secretOption,
} from './image-passphrase.js';

const parse = (...argv: string[]) =>
  parseArgs(argv, {
    values: ['object', ...passphraseSecretOptions('passphrase', 'new-passphrase')],
    flags: ['image-opts'],
  });
const invalid = (re: RegExp) => (e: Error & { code?: string }) =>
  e.code === 'INVALID_ARGUMENT' && re.test(e.message);

describe('an image passphrase from one source', () => {
  let dir: string;
  let pw: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iv-ip-'));
    pw = join(dir, 'pw');
    await writeFile(pw, 'secret-bytes');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('secret option names follow the passphrase option names', () => {
    assert.deepEqual(
      ['passphrase', 'new-passphrase', 'old-passphrase', 'source-passphrase'].map(secretOption),
      ['secret', 'new-secret', 'old-secret', 'source-secret']
    );
  });

  test('--image-opts key-secret, --secret and --passphrase-file each give the same bytes', async () => {
    const obj = ['--object', `secret,id=s,file=${pw}`];
    const opts = `driver=luks,file.filename=/x.img,key-secret=s`;
    const ways = [
      parse(...obj, '--image-opts', opts),
      parse(...obj, '--secret', 's', '/x.img'),
      parse('--passphrase-file', pw, '/x.img'),
    ];
    for (const args of ways) {
      const image = namedImage(args, args.positionals[0] as string);
      assert.equal(image.path, '/x.img');
      assert.ok(givesPassphrase(args, { name: 'passphrase', prompt: '', image }));
      const bytes = await resolvePassphrase(args, { name: 'passphrase', prompt: '', image });
      assert.equal(Buffer.from(bytes).toString(), 'secret-bytes');
    }
  });

  test('two sources, undeclared ids and backing secrets where no chain is read are refused', async () => {
    const args = parse(
      '--object',
      `secret,id=s,file=${pw}`,
      '--secret',
      's',
      '--passphrase-file',
      pw,
      'i'
    );
    await assert.rejects(
      resolvePassphrase(args, { name: 'passphrase', prompt: '' }),
      invalid(/Give the passphrase once, not by --secret and --passphrase-file/)
    );
    const undeclared = parse('--image-opts', 'driver=qcow2,file.filename=/i,encrypt.key-secret=z');
    assert.throws(
      () => namedImage(undeclared, undeclared.positionals[0] as string),
      invalid(/No secret with id "z"/)
    );
    const chain = parse(
      '--object',
      `secret,id=s,file=${pw}`,
      '--image-opts',
      'driver=qcow2,file.filename=/i,encrypt.key-secret=s,backing.encrypt.key-secret=s'
    );
    const text = chain.positionals[0] as string;
    assert.throws(
      () => namedImage(chain, text, { command: 'rekey' }),
      invalid(/backing\.encrypt\.key-secret cannot be honoured: rekey opens only/)
    );
    assert.equal(namedImage(chain, text, { layers: true }).path, '/i');
  });
});
