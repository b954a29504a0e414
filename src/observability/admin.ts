import { realpathSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { SeismoConfig } from '../config/schema.js';
import { isSeismoError, SeismoError } from '../errors.js';
import { hasBearer, isLoopbackHost, readTokenFile } from './auth.js';

type AdminConfig = SeismoConfig['admin'];

export interface AdminOptions {
  /** Bearer token every request must carry; undefined: no authentication (loopback only, checked by the caller). */
  token: string | undefined;
  /** The directory tree a request may load models from. */
  modelRoot: string;
  /** Largest request body read; above it: 413 and the connection is closed. */
  maxBodyBytes: number;
}

export type ReloadFn = (dir?: string) => Promise<{ model: string; previous: string }>;

/** After a 413, how long the client gets to read it before the connection is cut. */
const CLOSE_GRACE_MS = 200;

export type DirDecision = { ok: true; dir: string } | { ok: false; status: 400 | 403; reason: string };

/**
 * Where a requested artifact directory really is, if it is inside `root`: relative paths are
 * taken from root, `..` is refused outright, and symlinks are resolved before the check, so a
 * link inside root that points outside it is refused too. A directory that does not exist
 * (yet) passes when it lies inside root by its path: loading it then fails as a missing model.
 */
export function resolveModelDir(requested: string, root: string): DirDecision {
  if (requested.includes('\0')) return { ok: false, status: 400, reason: 'artifactDir contains a NUL byte' };
  if (requested.split(/[\\/]/).includes('..')) return { ok: false, status: 400, reason: `artifactDir ${JSON.stringify(requested)} contains "..": give a path inside admin.modelRoot without it` };
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch (err) {
    return { ok: false, status: 403, reason: `admin.modelRoot ${root} is not usable (${(err as Error).message}): no directory can be loaded from it` };
  }
  const candidate = isAbsolute(requested) ? requested : resolve(root, requested);
  const inside = (base: string, path: string) => {
    const rel = relative(base, path);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  };
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { ok: false, status: 403, reason: `artifactDir ${candidate}: ${(err as Error).message}` };
    if (inside(resolve(root), resolve(candidate)) || inside(realRoot, resolve(candidate))) return { ok: true, dir: resolve(candidate) };
    return { ok: false, status: 403, reason: `artifactDir ${candidate} is outside admin.modelRoot ${realRoot}` };
  }
  if (!inside(realRoot, real)) {
    const via = real === resolve(candidate) ? '' : ` (it resolves to ${real})`;
    return { ok: false, status: 403, reason: `artifactDir ${candidate}${via} is outside admin.modelRoot ${realRoot}` };
  }
  return { ok: true, dir: real };
}

/**
 * The admin endpoint, on a port of its own so it can stay private while /metrics is scraped:
 *   POST /model/reload            reload from the configured artifactDir
 *   POST /model/reload {"artifactDir": "v7"}   or from another directory under admin.modelRoot
 * 200 with the new and previous model versions; 409 with the reason when the new model was
 * refused (the running one stays), or while another admin reload is running (it is refused,
 * not queued: a retry after a conflict is the client's call, and a burst of requests cannot
 * line up model loads). 400 bad body or path, 401 missing or wrong token, 403 path outside
 * modelRoot, 404 other paths, 405 other methods, 413 body too large.
 */
export class AdminServer {
  private server: Server | undefined;
  private inFlight = false;

  constructor(
    private readonly reload: ReloadFn,
    private readonly options: AdminOptions,
  ) {}

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new SeismoError('SEISMO_HTTP_FAILED', `admin endpoint cannot listen on ${host}:${port}: ${err.message}`, { cause: err })));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: object, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const { token, maxBodyBytes } = this.options;
    if (token !== undefined && !hasBearer(req, token)) return reply(401, { error: 'missing or wrong bearer token (Authorization: Bearer <admin token>)' }, { 'www-authenticate': 'Bearer' });
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/model/reload') return reply(404, { error: 'not found: the admin endpoint serves POST /model/reload' });
    if (req.method !== 'POST') return reply(405, { error: 'use POST' }, { allow: 'POST' });

    // Refuse a body over the limit without reading it: answer, stop reading, then cut the
    // connection (a short grace lets the client read the answer first).
    const tooLarge = () => {
      req.removeAllListeners('data');
      req.pause();
      res.on('finish', () => setTimeout(() => req.socket.destroy(), CLOSE_GRACE_MS).unref());
      reply(413, { error: `request body larger than admin.maxBodyBytes (${maxBodyBytes} bytes)` }, { connection: 'close' });
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) return tooLarge();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > maxBodyBytes) return;
      const text = Buffer.concat(chunks).toString('utf8');
      const parsed = this.parseBody(text);
      if (!parsed.ok) return reply(parsed.status, { error: parsed.reason });
      if (this.inFlight) return reply(409, { status: 'kept the running model', error: 'another reload is in progress; retry when it has finished' });
      this.inFlight = true;
      this.reload(parsed.dir)
        .then(
          (result) => reply(200, { status: 'swapped', ...result }),
          (err: unknown) => reply(409, { status: 'kept the running model', error: err instanceof Error ? err.message : String(err), ...(isSeismoError(err) ? { code: err.code } : {}) }),
        )
        .finally(() => {
          this.inFlight = false;
        });
    });
  }

  private parseBody(text: string): { ok: true; dir: string | undefined } | { ok: false; status: 400 | 403; reason: string } {
    if (!text.trim()) return { ok: true, dir: undefined };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return { ok: false, status: 400, reason: `body is not JSON: ${(err as Error).message}` };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, status: 400, reason: 'body must be a JSON object like {"artifactDir": "v7"}' };
    const unknown = Object.keys(body).filter((k) => k !== 'artifactDir');
    if (unknown.length > 0) return { ok: false, status: 400, reason: `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}: the body takes only "artifactDir"` };
    const requested = (body as { artifactDir?: unknown }).artifactDir;
    if (requested === undefined) return { ok: true, dir: undefined };
    if (typeof requested !== 'string' || requested.length === 0) return { ok: false, status: 400, reason: '"artifactDir" must be a non-empty string' };
    return resolveModelDir(requested, this.options.modelRoot);
  }

  /** Stops listening and closes every connection, idle keep-alive ones and those mid-request alike, so shutdown never waits on a client. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}

/**
 * The admin endpoint's settings from config: the token (admin.tokenFile, or admin.token, i.e.
 * SEISMO_ADMIN_TOKEN), required unless admin.host is loopback; modelRoot defaulting to the
 * parent directory of artifactDir. Throws SEISMO_CONFIG_INVALID naming the key.
 */
export function adminOptions(admin: AdminConfig, artifactDir: string): AdminOptions {
  if (admin.tokenFile !== undefined && admin.token !== undefined) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', 'admin: both admin.tokenFile and admin.token (SEISMO_ADMIN_TOKEN) are set: give one');
  }
  const token = admin.tokenFile !== undefined ? readTokenFile(admin.tokenFile, 'admin.tokenFile') : admin.token;
  if (token === undefined && !isLoopbackHost(admin.host)) {
    throw new SeismoError(
      'SEISMO_CONFIG_INVALID',
      `admin.host is ${admin.host}, not a loopback address, and no admin token is set: anyone who reaches the port could swap the model. Set admin.tokenFile (or SEISMO_ADMIN_TOKEN), or listen on 127.0.0.1`,
    );
  }
  return { token, modelRoot: resolve(admin.modelRoot ?? dirname(resolve(artifactDir))), maxBodyBytes: admin.maxBodyBytes };
}
