/** Test-only: the real `image-vault serve` as a child process, and calls into its API. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { encodeBytes } from '../api/wire.js';
import { CLI_BIN } from './cli.js';

export interface ServeProcess {
  port: number;
  token: string;
  child: ChildProcess;
  /** POSTs `/api/NAME` with `args`; resolves with the status and parsed body. */
  call(name: string, ...args: unknown[]): Promise<{ status: number; body: unknown }>;
  /** Raw request with chosen headers (for the Host/Origin checks). */
  send(opts: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
  }): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
}

function send(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      }
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Starts `image-vault serve --port 0 [extra…]` and waits for its address line. */
export async function startServe(extra: string[] = [], env?: Record<string, string>) {
  const child = spawn(process.execPath, [CLI_BIN, 'serve', '--port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  let out = '';
  const { port, token } = await new Promise<{ port: number; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/#token=([0-9a-f]+)/.exec(out);
      const p = /127\.0\.0\.1:(\d+)/.exec(out);
      const t = /token[^0-9a-f]*([0-9a-f]{64})/.exec(out);
      if (m || (p && t)) {
        clearTimeout(timer);
        resolve({ port: Number((m ?? p)?.[1]), token: (m?.[2] ?? t?.[1]) as string });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  const sp: ServeProcess = {
    port,
    token,
    child,
    send: (opts) => send(port, opts),
    async call(name, ...args) {
      const r = await send(port, {
        method: 'POST',
        path: `/api/${name}`,
        body: JSON.stringify(encodeBytes(args)),
        headers: {
          Host: `127.0.0.1:${port}`,
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
        },
      });
      return { status: r.status, body: JSON.parse(r.text) as unknown };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
  return { ...sp, output: () => out };
}
