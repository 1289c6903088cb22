/**
 * Configuration from the environment, validated once at start-up. `parseConfig` is pure
 * (it takes the env as an argument), so tests build configs without touching process.env.
 */
import { z } from 'zod';

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
        ctx.addIssue({ code: 'custom', message: `"${item}" is not a channel:id pair such as telegram:123456789 or zalo:abc` });
        return z.NEVER;
      }
      pairs.push({ channel: m[1] as 'telegram' | 'zalo' | 'web', id: m[2]! });
    }
    return pairs;
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
    PUBLIC_URL: optional(z.url({ protocol: /^https$/, error: 'must be an https:// URL where this server is reachable from the internet' })),
    DATABASE_URL: z.preprocess(blankToUndefined, z.string().regex(/^(file:|postgres(ql)?:\/\/)/, 'must be file:<path> (SQLite) or postgresql://... ').default('file:./data/bot.db')),
    PORT: z.preprocess(blankToUndefined, z.coerce.number({ error: 'must be a port number' }).int('must be a whole number').min(0).max(65535, 'must be 0-65535').default(3000)),
    HOST: z.preprocess(blankToUndefined, z.string().default('0.0.0.0')),
    DEFAULT_LOCALE: z.preprocess(blankToUndefined, z.enum(['vi', 'en'], { error: 'must be vi or en' }).default('vi')),
    ADMIN_IDS: z.preprocess(blankToUndefined, adminIds.default([])),
    DEMO_DATA: z.preprocess(blankToUndefined, z.enum(['on', 'off'], { error: 'must be on or off' }).default('on')),
    BACKGROUND_JOBS: z.preprocess(blankToUndefined, z.enum(['on', 'off'], { error: 'must be on or off' }).default('on')),
    LOG_LEVEL: z.preprocess(blankToUndefined, z.enum(['debug', 'info', 'warn', 'error']).default('info')),
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
  escalation: { urgentMs: number; normalMs: number };
  publicUrl?: string;
  databaseUrl: string;
  port: number;
  host: string;
  defaultLocale: 'vi' | 'en';
  adminIds: { channel: 'telegram' | 'zalo' | 'web'; id: string }[];
  demoData: boolean;
  /** Delivery workers and timers; with several instances on PostgreSQL, exactly one runs them. */
  backgroundJobs: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
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
      const shown = given === undefined || /TOKEN|SECRET/.test(name) ? '' : ` (got "${given}")`;
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
    escalation: { urgentMs: e.ESCALATION_URGENT_MINUTES * 60_000, normalMs: e.ESCALATION_NORMAL_MINUTES * 60_000 },
    publicUrl: e.PUBLIC_URL ? stripSlash(e.PUBLIC_URL) : undefined,
    databaseUrl: e.DATABASE_URL,
    port: e.PORT,
    host: e.HOST,
    defaultLocale: e.DEFAULT_LOCALE,
    adminIds: e.ADMIN_IDS,
    demoData: e.DEMO_DATA === 'on',
    backgroundJobs: e.BACKGROUND_JOBS === 'on',
    logLevel: e.LOG_LEVEL,
  };
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
