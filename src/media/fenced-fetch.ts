/**
 * Downloads a photo from a messaging platform, fenced (security review M2):
 * - https only, to a host on the allow-list (a name matches itself and its subdomains);
 * - the host's addresses are checked when the connection is made (no DNS-rebinding gap):
 *   no loopback, private, link-local, multicast or otherwise reserved address;
 * - redirects are refused, not followed;
 * - the body is streamed and fails as soon as it passes the byte limit.
 * The configured API root (a local Bot API server, or the test fakes) is the one exception:
 * its own host is trusted with its own scheme, private address included.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { PhotoRefused } from '../core/ports/photo-source.js';

export interface FetchFence {
  /** Host names photos may come from over https. */
  allowHosts: string[];
  /** The platform's API root: its host is trusted with its scheme. */
  apiRoot?: string;
  maxBytes: number;
  timeoutMs?: number;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for an address no photo may be fetched from (IPv4-mapped IPv6 is checked as IPv4). */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return blocked.check(address, 'ipv4');
}

export function hostAllowed(hostname: string, allowHosts: string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return allowHosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
}

/** Starts a fenced GET; resolves with the body once the answer is a 2xx, or throws PhotoRefused / Error. */
export function fencedGet(rawUrl: string, fence: FetchFence): Promise<Readable> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return Promise.reject(new PhotoRefused('fetch_refused', 'not a URL'));
  }
  const root = fence.apiRoot ? new URL(fence.apiRoot) : undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const trusted = Boolean(root && root.hostname === url.hostname && root.protocol === url.protocol);
  // Errors never carry the URL: Telegram's file URLs contain the bot token.
  const refuse = (why: string) => Promise.reject(new PhotoRefused('fetch_refused', `${why} (${url.protocol}//${host})`));
  if (url.username || url.password) return refuse('credentials in the URL');
  if (!trusted) {
    if (url.protocol !== 'https:') return refuse('not https');
    if (!hostAllowed(host, fence.allowHosts)) return refuse('host not on PHOTO_FETCH_HOSTS');
    if (isIP(host) && isForbiddenAddress(host)) return refuse('private or reserved address');
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const bad = trusted ? undefined : addresses.find((a) => isForbiddenAddress(a.address));
      if (bad || !addresses.length) {
        return callback(new PhotoRefused('fetch_refused', `${hostname} resolves to a private or reserved address`) as NodeJS.ErrnoException, '', 0);
      }
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  const client = url.protocol === 'https:' ? https : http;
  return new Promise<Readable>((resolve, reject) => {
    const req = client.request(
      url,
      { method: 'GET', lookup, signal: AbortSignal.timeout(fence.timeoutMs ?? 30_000), headers: { accept: 'image/jpeg, image/png, image/webp' }, agent: false },
      (res) => {
        const status = res.statusCode ?? 0;
        const fail = (error: Error) => {
          res.destroy();
          reject(error);
        };
        if (status >= 300 && status < 400) return fail(new PhotoRefused('fetch_refused', `redirect refused (${status})`));
        if (status < 200 || status >= 300) return fail(new Error(`photo download answered ${status}`));
        const length = Number(res.headers['content-length'] ?? NaN);
        if (Number.isFinite(length) && length > fence.maxBytes) return fail(new PhotoRefused('too_large', `${length} bytes announced`));
        const limited = new ByteLimit(fence.maxBytes, () => res.destroy());
        res.on('error', (error) => limited.destroy(error));
        resolve(res.pipe(limited));
      },
    );
    req.on('error', (error) => reject(error instanceof PhotoRefused ? error : causeOf(error)));
    req.end();
  });
}

/** The lookup's refusal arrives wrapped by the socket; anything else is a network error without the URL. */
function causeOf(error: Error): Error {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof PhotoRefused) return cause;
  return new Error(`photo download failed: ${error.message}`);
}

class ByteLimit extends Transform {
  private bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly onExceeded: () => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.onExceeded();
      return done(new PhotoRefused('too_large', `more than ${this.maxBytes} bytes`));
    }
    done(null, chunk);
  }
}
