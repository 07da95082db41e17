/**
 * Issue #13, serve: `--open` never puts the token on a command line (the opener gets the
 * path of a 0600 page that carries it); an SSH tunnel whose local port differs from the
 * server's works (Host: 127.0.0.1:OTHER), foreign hosts and mismatched origins stay refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { peerTestOptions, scratchDir } from '../testing/peers.js';
import { startServe } from '../testing/serve-process.js';

describe('serve: token never in argv, tunnels on other ports', peerTestOptions(), () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await scratchDir('iv-serve-')));
  after(async () => cleanup?.());

  test('--open hands the opener a 0600 page, not the URL with the token', async () => {
    const log = join(dir, 'opener.log');
    const opener = join(dir, 'opener.sh');
    await writeFile(
      opener,
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${log}.argv\nstat -c %a "$1" > ${log}.mode\ncat "$1" > ${log}.page\n`
    );
    await chmod(opener, 0o755);
    const srv = await startServe(['--open'], { IMAGE_VAULT_OPENER: opener });
    try {
      let argv = '';
      for (let i = 0; i < 100 && !argv; i++) {
        argv = await readFile(`${log}.argv`, 'utf8').catch(() => '');
        if (!argv) await sleep(100);
      }
      await sleep(200);
      assert.ok(argv.length > 0, 'the opener ran');
      assert.ok(!argv.includes(srv.token), argv);
      assert.match(argv.trim(), /\.html$/);
      assert.equal((await readFile(`${log}.mode`, 'utf8')).trim(), '600');
      const page = await readFile(`${log}.page`, 'utf8');
      assert.ok(page.includes(`http://127.0.0.1:${srv.port}/#token=${srv.token}`));
    } finally {
      await srv.stop();
    }
  });

  test('Host on another loopback port (SSH tunnel) works; foreign Host and Origin do not', async () => {
    const srv = await startServe();
    try {
      const call = (headers: Record<string, string>) =>
        srv.send({
          method: 'POST',
          path: '/api/listJobs',
          body: '[]',
          headers: {
            Authorization: `Bearer ${srv.token}`,
            'Content-Type': 'application/json',
            ...headers,
          },
        });
      const other = srv.port === 8080 ? 8081 : 8080;
      assert.equal((await call({ Host: `127.0.0.1:${other}` })).status, 200);
      assert.equal(
        (await call({ Host: `localhost:${other}`, Origin: `http://localhost:${other}` })).status,
        200
      );
      assert.equal((await call({ Host: `evil.example:${other}` })).status, 403);
      assert.equal((await call({ Host: `127.0.0.1.evil.example:${other}` })).status, 403);
      assert.equal(
        (await call({ Host: `127.0.0.1:${other}`, Origin: `http://127.0.0.1:${srv.port + 1}` }))
          .status,
        403
      );
      const page = await srv.send({ path: '/', headers: { Host: `127.0.0.1:${other}` } });
      assert.equal(page.status, 200);
    } finally {
      await srv.stop();
    }
  });
});
