import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { SeismoError } from '../errors.js';

/**
 * Bearer tokens for the admin endpoint and /metrics. A token comes from a file (a mounted
 * secret) or the environment; it is compared in constant time, so response timing does not
 * tell an attacker how much of a guess was right.
 */

/** Reads a token file: surrounding whitespace (the trailing newline of `echo > file`) is not part of it. */
export function readTokenFile(path: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `${key}: cannot read token file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const token = text.trim();
  if (token.length === 0) throw new SeismoError('SEISMO_CONFIG_INVALID', `${key}: token file ${path} is empty`);
  return token;
}

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form) and `localhost`: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** True when the request carries `Authorization: Bearer <token>` with exactly this token. */
export function hasBearer(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return false;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!match) return false;
  // Equal-length digests: timingSafeEqual needs equal lengths, and the length of the guess leaks nothing.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(match[1] as string), digest(token));
}
