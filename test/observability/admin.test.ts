import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeismoError } from '../../src/errors.js';
import { AdminServer, adminOptions, resolveModelDir, type ReloadFn } from '../../src/observability/admin.js';
import { isLoopbackHost } from '../../src/observability/auth.js';
import { HttpServer } from '../../src/observability/http.js';
import { Metrics } from '../../src/observability/metrics.js';
import { smallConfig } from '../helpers.js';

// The admin endpoint's HTTP contract. The reload behind it is a plain function here that
// records what it was asked and answers as the test says; the real daemon behind the endpoint
// is exercised in admin-process.test.ts.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-admin-')));
const models = join(root, 'models');
mkdirSync(join(models, 'v7'), { recursive: true });
mkdirSync(join(root, 'elsewhere'), { recursive: true });
symlinkSync(join(root, 'elsewhere'), join(models, 'escape'));
symlinkSync(join(models, 'v7'), join(models, 'current'));
const TOKEN = 'a-long-admin-token-0123456789';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function admin(reload: ReloadFn, token: string | undefined = TOKEN, maxBodyBytes = 65536) {
  const server = new AdminServer(reload, { token, modelRoot: models, maxBodyBytes });
  servers.push(server);
  const port = await server.listen('127.0.0.1', 0);
  return { server, url: `http://127.0.0.1:${port}/model/reload`, port };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (url: string, body?: unknown, headers: Record<string, string> = auth) => fetch(url, { method: 'POST', headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });

describe('admin endpoint', () => {
  it('200: swaps and answers with the new and previous versions; the reload gets the resolved directory', async () => {
    const asked: (string | undefined)[] = [];
    const { url } = await admin(async (dir) => {
      asked.push(dir);
      return { model: 'v7', previous: 'v6' };
    });
    const r = await post(url, { artifactDir: 'v7' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'swapped', model: 'v7', previous: 'v6' });
    expect((await post(url)).status).toBe(200);
    expect((await post(url, { artifactDir: join(models, 'current') })).status).toBe(200);
    // Relative to modelRoot; no body: the configured artifactDir; a symlink inside: its target.
    expect(asked).toEqual([join(models, 'v7'), undefined, join(models, 'v7')]);
  });

  it('401 without a token, with a wrong one, or another scheme; nothing is reloaded', async () => {
    let calls = 0;
    const { url } = await admin(async () => {
      calls++;
      return { model: 'x', previous: 'y' };
    });
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }]) {
      const r = await post(url, {}, headers);
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(calls).toBe(0);
  });

  it('400 for a body that is not a JSON object with a string artifactDir, or a path with ..', async () => {
    const { url } = await admin(async () => ({ model: 'x', previous: 'y' }));
    const cases: [unknown, RegExp][] = [
      ['{not json', /body is not JSON/],
      [[1, 2], /must be a JSON object/],
      [{ artifactDir: 7 }, /"artifactDir" must be a non-empty string/],
      [{ artifactDir: '' }, /must be a non-empty string/],
      [{ artifactDir: 'v7', force: true }, /unknown key "force"/],
      [{ artifactDir: '../elsewhere' }, /contains "\.\."/],
      [{ artifactDir: `${models}/v7/../../elsewhere` }, /contains "\.\."/],
    ];
    for (const [body, message] of cases) {
      const r = await post(url, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(message);
    }
  });

  it('403 for a directory outside modelRoot, directly or through a symlink', async () => {
    const { url } = await admin(async () => ({ model: 'x', previous: 'y' }));
    for (const [dir, message] of [
      [join(root, 'elsewhere'), `is outside admin.modelRoot ${models}`],
      ['/etc', 'is outside admin.modelRoot'],
      ['escape', `(it resolves to ${join(root, 'elsewhere')}) is outside admin.modelRoot`],
      [join(root, 'nothing-here'), 'is outside admin.modelRoot'],
    ]) {
      const r = await post(url, { artifactDir: dir });
      expect(r.status, dir).toBe(403);
      expect(((await r.json()) as { error: string }).error).toContain(message);
    }
  });

  it('404 for other paths, 405 for other methods', async () => {
    const { url, port } = await admin(async () => ({ model: 'x', previous: 'y' }));
    const r404 = await fetch(`http://127.0.0.1:${port}/model`, { method: 'POST', headers: auth });
    expect(r404.status).toBe(404);
    const r405 = await fetch(url, { headers: auth });
    expect(r405.status).toBe(405);
    expect(r405.headers.get('allow')).toBe('POST');
  });

  it('409 when the reload is refused, with the reason and code; the client learns the running model stays', async () => {
    const { url } = await admin(async () => {
      throw new SeismoError('SEISMO_MODEL_INVALID', 'model artifact /m/v8: /m/v8/threshold.json: "value" must be a finite number > 0, got 0');
    });
    const r = await post(url, { artifactDir: 'v7' });
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({ status: 'kept the running model', code: 'SEISMO_MODEL_INVALID', error: expect.stringContaining('threshold.json') });
  });

  it('a second reload while one runs is refused with 409 (not queued); afterwards reloads work again', async () => {
    // The reload in progress, held open until the test lets it finish.
    const pending: (() => void)[] = [];
    const started = async (n: number) => {
      while (pending.length < n) await new Promise((r) => setTimeout(r, 5));
    };
    const { url } = await admin(() => new Promise((resolve) => pending.push(() => resolve({ model: 'v7', previous: 'v6' }))));
    const first = post(url, { artifactDir: 'v7' });
    await started(1);
    const second = await post(url, { artifactDir: 'v7' });
    expect(second.status).toBe(409);
    expect(await second.json()).toEqual({ status: 'kept the running model', error: 'another reload is in progress; retry when it has finished' });
    pending[0]?.();
    expect((await first).status).toBe(200);
    const third = post(url);
    await started(2);
    pending[1]?.();
    expect((await third).status).toBe(200);
    expect(pending).toHaveLength(2);
  });

  it('413 for a declared body over the limit, answered without reading it, and the connection closed', async () => {
    let calls = 0;
    const { port } = await admin(async () => {
      calls++;
      return { model: 'x', previous: 'y' };
    }, TOKEN, 1024);
    const answer = await rawExchange(port, [`POST /model/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 300000000\r\n\r\n`, 'x'.repeat(4096)]);
    expect(answer.text).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.text).toContain('larger than admin.maxBodyBytes (1024 bytes)');
    expect(answer.closed).toBe(true);
    expect(calls).toBe(0);
  });

  it('413 for a chunked body that grows over the limit: reading stops there', async () => {
    const { port } = await admin(async () => ({ model: 'x', previous: 'y' }), TOKEN, 1024);
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
    const answer = await rawExchange(port, [`POST /model/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n`, chunk(`{"artifactDir": "${'a'.repeat(600)}`), chunk('b'.repeat(600))]);
    expect(answer.text).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.closed).toBe(true);
  });

  it('close() ends idle keep-alive and mid-request connections instead of waiting for them', async () => {
    const { server, url, port } = await admin(async () => ({ model: 'x', previous: 'y' }));
    const agent = new Agent({ keepAlive: true });
    // An idle keep-alive connection (after one answered request) ...
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', agent, headers: auth }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    // ... and one stuck mid-request: headers sent, body never finished.
    const stuck = connect(port, '127.0.0.1');
    await new Promise((r) => stuck.once('connect', r));
    stuck.write(`POST /model/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100\r\n\r\n{`);
    stuck.on('error', () => {});
    const stuckClosed = new Promise((r) => stuck.once('close', r));
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close().then(() => 'closed');
    const outcome = await Promise.race([closing, new Promise((r) => setTimeout(() => r('still waiting'), 5_000))]);
    expect(outcome).toBe('closed');
    await stuckClosed;
    agent.destroy();
  });
});

describe('admin settings', () => {
  const base = smallConfig();
  it('refuses a non-loopback admin.host without a token, with a config error naming the key', () => {
    const err = (() => {
      try {
        adminOptions({ ...base.admin, enabled: true, host: '0.0.0.0' }, base.artifactDir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({ code: 'SEISMO_CONFIG_INVALID' });
    expect((err as Error).message).toContain('admin.host is 0.0.0.0, not a loopback address, and no admin token is set');
    expect(adminOptions({ ...base.admin, host: '0.0.0.0', token: 'from-env' }, base.artifactDir).token).toBe('from-env');
    expect(adminOptions({ ...base.admin, host: '127.0.0.1' }, base.artifactDir).token).toBeUndefined();
  });

  it('reads the token file (trimmed), refuses an unreadable or empty one and a token given twice', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = join(root, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    expect(adminOptions({ ...base.admin, host: '0.0.0.0', tokenFile: file }, base.artifactDir).token).toBe(TOKEN);
    expect(() => adminOptions({ ...base.admin, tokenFile: join(root, 'none') }, base.artifactDir)).toThrow(/admin.tokenFile: cannot read token file .*none/);
    writeFileSync(join(root, 'empty'), '\n');
    expect(() => adminOptions({ ...base.admin, tokenFile: join(root, 'empty') }, base.artifactDir)).toThrow(/token file .*empty is empty/);
    expect(() => adminOptions({ ...base.admin, tokenFile: file, token: 'x' }, base.artifactDir)).toThrow(/both admin.tokenFile and admin.token/);
  });

  it('modelRoot defaults to the parent directory of artifactDir', () => {
    expect(adminOptions(base.admin, '/srv/models/current').modelRoot).toBe('/srv/models');
    expect(adminOptions({ ...base.admin, modelRoot: '/data/m' }, '/srv/models/current').modelRoot).toBe('/data/m');
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'].filter((h) => !isLoopbackHost(h))).toEqual([]);
    expect(['0.0.0.0', '::', '10.0.0.5', 'seismo.internal', '128.0.0.1'].filter((h) => isLoopbackHost(h))).toEqual([]);
  });

  it('a missing directory inside the root passes (the load then reports it missing); one outside does not', () => {
    expect(resolveModelDir('v9', models)).toEqual({ ok: true, dir: join(models, 'v9') });
    expect(resolveModelDir(join(root, 'v9'), models)).toMatchObject({ ok: false, status: 403 });
  });
});

describe('/metrics bearer token (http.metricsTokenFile)', () => {
  it('/metrics needs the token; /healthz and /readyz stay open', async () => {
    const http = new HttpServer(new Metrics(), () => ({ ready: true, detail: {} }));
    servers.push(http);
    const port = await http.listen('127.0.0.1', 0, { metricsToken: 'scrape-me' });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer scrape-me' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('seismo_');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});

/** Writes the parts to a raw TCP connection and collects what comes back until it closes (or 10 s). */
async function rawExchange(port: number, parts: string[]): Promise<{ text: string; closed: boolean }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let text = '';
  socket.on('data', (d) => (text += String(d)));
  socket.on('error', () => {});
  const closed = new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 10_000);
  });
  for (const part of parts) {
    socket.write(part);
    await new Promise((r) => setTimeout(r, 20));
  }
  const wasClosed = await closed;
  socket.destroy();
  return { text, closed: wasClosed };
}
