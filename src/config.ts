/**
 * Configuration from the environment, validated once at start-up. `parseConfig` is pure
 * (it takes the env as an argument), so tests build configs without touching process.env.
 */
import * as z from 'zod';
import { ID_SHAPE_TEXT, isAccountId } from './core/account-ids.js';

// Only the shape "<numeric bot id>:<secret>" is checked: test servers and local Bot API
// servers hand out tokens with shorter secrets than the public platforms do.
const TELEGRAM_TOKEN = /^\d{1,20}:[A-Za-z0-9_-]+$/;
const ZALO_TOKEN = /^\d{1,25}:[^\s:]+$/;

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optional = <T extends z.ZodTypeAny>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

const httpUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `must be an http(s) URL of ${what}` });

const secret = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,256}$/, 'must be 8-256 characters of A-Z, a-z, 0-9, _ and -');

const rate = (what: string, fallback: number) =>
  z.preprocess(blankToUndefined, z.coerce.number({ error: `must be a number of ${what}` }).positive('must be above 0').max(100_000).default(fallback));
const minutes = (fallback: number) =>
  z.preprocess(blankToUndefined, z.coerce.number({ error: 'must be a number of minutes' }).positive('must be above 0').max(60 * 24 * 30).default(fallback));

const adminIds = z
  .string()
  .transform((raw, ctx) => {
    const pairs: { channel: 'telegram' | 'zalo' | 'web'; id: string }[] = [];
    for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^(telegram|zalo|web):(\S+)$/.exec(item);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${item.slice(0, 80)}" is not a channel:id pair such as telegram:123456789 or zalo:6ede9afa66b88fe6d6a9` });
        return z.NEVER;
      }
      const channel = m[1] as 'telegram' | 'zalo' | 'web';
      // A web chat account is only a browser cookie: it never gets administrator rights (H3, L8).
      if (channel === 'web') {
        ctx.addIssue({ code: 'custom', message: `cannot name a web chat account ("${item.slice(0, 80)}"): administrators are Telegram or Zalo accounts (telegram:<user id> or zalo:<user id>)` });
        return z.NEVER;
      }
      if (!isAccountId(channel, m[2]!)) {
        ctx.addIssue({ code: 'custom', message: `"${item.slice(0, 80)}" is not a valid id: ${ID_SHAPE_TEXT[channel]}` });
        return z.NEVER;
      }
      pairs.push({ channel, id: m[2]! });
    }
    return pairs;
  });

/** "30/10s" (messages per seconds, per account) or "off". */
const messageLimit = z.string().transform((raw, ctx): { max: number; windowMs: number } | false => {
  if (raw.trim().toLowerCase() === 'off') return false;
  const m = /^\s*(\d{1,6})\s*\/\s*(\d{1,5})\s*s\s*$/i.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    ctx.addIssue({ code: 'custom', message: 'must be <messages>/<seconds>s such as 30/10s, or off' });
    return z.NEVER;
  }
  return { max: Number(m[1]), windowMs: Number(m[2]) * 1000 };
});

/** Hosts photos may be downloaded from (https only; a name matches itself and its subdomains). */
export const DEFAULT_PHOTO_FETCH_HOSTS = 'api.telegram.org,zdn.vn,zadn.vn,zalo.me';
const photoHosts = z
  .string()
  .transform((raw, ctx) => {
    const hosts = raw.split(',').map((s) => s.trim().toLowerCase().replace(/^\*\./, '')).filter(Boolean);
    const bad = hosts.find((h) => !/^[a-z0-9.-]+$/.test(h) || h.startsWith('.') || !h.includes('.') && h !== 'localhost');
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of host names such as api.telegram.org,zdn.vn ("${bad}" is not one)` });
      return z.NEVER;
    }
    return hosts;
  });

export const configSchema = z
  .object({
    TELEGRAM_BOT_TOKEN: optional(z.string().regex(TELEGRAM_TOKEN, 'must look like 123456789:AAE... (the token BotFather gives)')),
    TELEGRAM_API_ROOT: z.preprocess(blankToUndefined, httpUrl('a Bot API server').default('https://api.telegram.org')),
    TELEGRAM_WEBHOOK_SECRET: optional(secret),
    ZALO_BOT_TOKEN: optional(z.string().regex(ZALO_TOKEN, 'must look like 1234567890:abcDEF... (the token from the Zalo Bot Manager)')),
    ZALO_API_ROOT: z.preprocess(blankToUndefined, httpUrl('the Zalo Bot API').default('https://bot-api.zaloplatforms.com')),
    ZALO_WEBHOOK_SECRET: optional(secret),
    ZALO_SEND_RATE: rate('messages per second', 5),
    TELEGRAM_RATE_GLOBAL: rate('messages per second', 30),
    TELEGRAM_RATE_PER_CHAT: rate('messages per second to one chat', 1),
    TELEGRAM_RATE_PER_GROUP: rate('messages per minute to one group chat', 20),
    ESCALATION_URGENT_MINUTES: minutes(15),
    ESCALATION_NORMAL_MINUTES: minutes(24 * 60),
    // Per-level multipliers of the two timers: group leaders, the first police unit (commune/ward), the next (province)...
    ESCALATION_LEVEL_FACTORS: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, 'must be numbers separated by commas, e.g. 1,1,2 (group, commune/ward police, province police)')
        .transform((v) => v.split(',').map((x) => Number(x.trim())))
        .refine((list) => list.every((x) => x > 0 && x <= 100), 'each factor must be above 0 and at most 100')
        .default([1]),
    ),
    PUBLIC_URL: optional(z.url({ protocol: /^https$/, error: 'must be an https:// URL where this server is reachable from the internet' })),
    DATABASE_URL: z.preprocess(blankToUndefined, z.string().regex(/^(file:|postgres(ql)?:\/\/)/, 'must be file:<path> (SQLite) or postgresql://... ').default('file:./data/bot.db')),
    PORT: z.preprocess(blankToUndefined, z.coerce.number({ error: 'must be a port number' }).int('must be a whole number').min(0).max(65535, 'must be 0-65535').default(3000)),
    HOST: z.preprocess(blankToUndefined, z.string().default('0.0.0.0')),
    DEFAULT_LOCALE: z.preprocess(blankToUndefined, z.enum(['vi', 'en'], { error: 'must be vi or en' }).default('vi')),
    ADMIN_IDS: z.preprocess(blankToUndefined, adminIds.default([])),
    // No default here: parseConfig decides (on for a local try-out only, see demoDataDefault).
    DEMO_DATA: optional(z.enum(['on', 'off'], { error: 'must be on or off' })),
    BACKGROUND_JOBS: z.preprocess(blankToUndefined, z.enum(['on', 'off'], { error: 'must be on or off' }).default('on')),
    INSTANCE_NAME: optional(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, ., _ and - (a name for this machine or container)')),
    LOG_LEVEL: z.preprocess(blankToUndefined, z.enum(['debug', 'info', 'warn', 'error']).default('info')),
    MESSAGE_LIMIT: z.preprocess(blankToUndefined, messageLimit.default({ max: 30, windowMs: 10_000 })),
    WEB_CHAT: z.preprocess(blankToUndefined, z.enum(['on', 'off'], { error: 'must be on or off' }).default('on')),
    TRUST_PROXY: z.preprocess(blankToUndefined, z.enum(['on', 'off'], { error: 'must be on or off' }).default('off')),
    PHOTO_FETCH_HOSTS: z.preprocess(blankToUndefined, photoHosts.default(DEFAULT_PHOTO_FETCH_HOSTS.split(','))),
    MEDIA_DIR: optional(z.string()),
    CONSOLE_TILE_URL: optional(
      z
        .string()
        .regex(/^https?:\/\/[^\s"'<>]+$/, 'must be an http(s) tile URL template such as https://tile.openstreetmap.org/{z}/{x}/{y}.png')
        .refine((v) => ['{z}', '{x}', '{y}'].every((p) => v.includes(p)), 'must contain {z}, {x} and {y}'),
    ),
  })
  ;

/** Cross-variable rules, checked on the raw environment so they are listed with every other problem. */
function crossChecks(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => Boolean(env[name]?.trim());
  const problems: string[] = [];
  if (set('PUBLIC_URL') && set('TELEGRAM_BOT_TOKEN') && !set('TELEGRAM_WEBHOOK_SECRET')) {
    problems.push('TELEGRAM_WEBHOOK_SECRET must be set (8-256 characters of A-Z, a-z, 0-9, _ and -) when PUBLIC_URL is set');
  }
  if (set('PUBLIC_URL') && set('ZALO_BOT_TOKEN') && !set('ZALO_WEBHOOK_SECRET')) {
    problems.push('ZALO_WEBHOOK_SECRET must be set (8-256 characters of A-Z, a-z, 0-9, _ and -) when PUBLIC_URL is set');
  }
  return problems;
}

export type Env = z.output<typeof configSchema>;

export interface Config {
  telegram?: { token: string; apiRoot: string; webhookSecret?: string };
  zalo?: { token: string; apiRoot: string; webhookSecret?: string };
  rates: {
    telegram: { globalPerSecond: number; perChatPerSecond: number; perGroupPerMinute: number };
    zalo: { globalPerSecond: number; perChatPerSecond: number; perGroupPerMinute: number };
  };
  /** levelFactors[i] multiplies the timer at level i (0: group, 1: first police unit, ...); the last one repeats. */
  escalation: { urgentMs: number; normalMs: number; levelFactors: number[] };
  publicUrl?: string;
  databaseUrl: string;
  port: number;
  host: string;
  defaultLocale: 'vi' | 'en';
  adminIds: { channel: 'telegram' | 'zalo' | 'web'; id: string }[];
  /**
   * Load the demo area tree (with its published invite codes) into an empty database. Off by
   * default, except for a local try-out: no PUBLIC_URL and no messenger token.
   */
  demoData: boolean;
  /** Things that are allowed but probably a mistake; the service logs them at start-up. */
  warnings?: string[];
  /**
   * Whether this instance takes part in the background work (each bot token's sender, the timers).
   * With several instances on one database they share it through leases: one holder at a time,
   * another takes over when it stops. Off: this instance never sends or runs timers.
   */
  backgroundJobs: boolean;
  /** This machine's name in the lease table (default the host name); see persistence/lease.ts. */
  instanceName?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Messages one account may send per window before the bot says "slow down" and ignores the rest; false: no limit. */
  messageLimit?: { max: number; windowMs: number } | false;
  /** The web chat ("/" and /api/web/*); off answers 404 there and leaves only webhooks, /healthz and /media. */
  webChat: boolean;
  /** Behind a reverse proxy: the client address is the last X-Forwarded-For entry (web chat rate limits). */
  trustProxy: boolean;
  /** Stored photos: the folder of their files, and the hosts photos may be downloaded from. */
  media: { dir: string; fetchHosts: string[] };
  /** The console's map tiles ({z}/{x}/{y} template); unset: the map shows pins without tiles. */
  consoleTileUrl?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError naming every wrong variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  const cross = crossChecks(env);
  if (!result.success || cross.length) {
    const problems = (result.error?.issues ?? []).map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const given = env[name];
      const shown = given === undefined || /TOKEN|SECRET|PASSWORD/.test(name) ? '' : ` (got "${shorten(redact(given))}")`;
      return `${name} ${issue.message}${shown}`;
    });
    throw new ConfigError([...problems, ...cross]);
  }
  const e = result.data;
  return {
    telegram: e.TELEGRAM_BOT_TOKEN
      ? { token: e.TELEGRAM_BOT_TOKEN, apiRoot: stripSlash(e.TELEGRAM_API_ROOT), webhookSecret: e.TELEGRAM_WEBHOOK_SECRET }
      : undefined,
    zalo: e.ZALO_BOT_TOKEN
      ? { token: e.ZALO_BOT_TOKEN, apiRoot: stripSlash(e.ZALO_API_ROOT), webhookSecret: e.ZALO_WEBHOOK_SECRET }
      : undefined,
    rates: {
      telegram: { globalPerSecond: e.TELEGRAM_RATE_GLOBAL, perChatPerSecond: e.TELEGRAM_RATE_PER_CHAT, perGroupPerMinute: e.TELEGRAM_RATE_PER_GROUP },
      // Zalo publishes no numbers: one overall rate, and the same per chat as Telegram's 1/s.
      zalo: { globalPerSecond: e.ZALO_SEND_RATE, perChatPerSecond: Math.min(1, e.ZALO_SEND_RATE), perGroupPerMinute: 20 },
    },
    escalation: { urgentMs: e.ESCALATION_URGENT_MINUTES * 60_000, normalMs: e.ESCALATION_NORMAL_MINUTES * 60_000, levelFactors: e.ESCALATION_LEVEL_FACTORS },
    publicUrl: e.PUBLIC_URL ? stripSlash(e.PUBLIC_URL) : undefined,
    databaseUrl: e.DATABASE_URL,
    port: e.PORT,
    host: e.HOST,
    defaultLocale: e.DEFAULT_LOCALE,
    adminIds: e.ADMIN_IDS,
    demoData: (e.DEMO_DATA ?? demoDataDefault(e)) === 'on',
    warnings: warningsOf(e),
    backgroundJobs: e.BACKGROUND_JOBS === 'on',
    instanceName: e.INSTANCE_NAME,
    logLevel: e.LOG_LEVEL,
    messageLimit: e.MESSAGE_LIMIT,
    webChat: e.WEB_CHAT === 'on',
    trustProxy: e.TRUST_PROXY === 'on',
    media: { dir: e.MEDIA_DIR ?? defaultMediaDir(e.DATABASE_URL), fetchHosts: e.PHOTO_FETCH_HOSTS },
    consoleTileUrl: e.CONSOLE_TILE_URL,
  };
}

/** Next to the SQLite file (<its folder>/media), or ./data/media with PostgreSQL. */
function defaultMediaDir(databaseUrl: string): string {
  if (!databaseUrl.startsWith('file:')) return 'data/media';
  const file = databaseUrl.slice('file:'.length).split('?')[0]!;
  const slash = file.lastIndexOf('/');
  return `${slash >= 0 ? file.slice(0, slash) || '/' : '.'}/media`;
}

/** DEMO_DATA when not set: on only for a local try-out (no PUBLIC_URL, no messenger token). */
function demoDataDefault(e: Env): 'on' | 'off' {
  return e.PUBLIC_URL || e.TELEGRAM_BOT_TOKEN || e.ZALO_BOT_TOKEN ? 'off' : 'on';
}

function warningsOf(e: Env): string[] {
  const warnings: string[] = [];
  if (e.DEMO_DATA === 'on' && e.PUBLIC_URL) {
    warnings.push('DEMO_DATA=on with PUBLIC_URL set: an empty database gets the demo groups, whose invite codes are published in the README. Set DEMO_DATA=off for a real service.');
  }
  return warnings;
}

/**
 * A value as it may appear in an error message: the user:password part of any URL in it and
 * password/token/secret query parameters are replaced by "***" (L5).
 */
export function redact(value: string): string {
  return value
    .replace(/(\/\/)[^/?#\s@]*@/g, '$1***@')
    .replace(/([?&;](?:password|passwd|pwd|pass|token|secret|sslpassword|key)=)[^&;#\s]*/gi, '$1***');
}

function shorten(value: string): string {
  return value.length > 120 ? `${value.slice(0, 117)}...` : value;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
