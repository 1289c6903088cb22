import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';

const TELEGRAM_TOKEN = '123456789:AAEabcdefghijklmnopqrstuvwxyz0123';
const ZALO_TOKEN = '1234567890:abcDEFghiJKLmno';

/** The problems parseConfig reports for an environment (fails the test if it accepts it). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    // The thrown message lists every problem too (main.ts prints it).
    for (const p of problems) expect((error as ConfigError).message).toContain(p);
    return problems;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

describe('parseConfig', () => {
  it('starts with nothing set: port 3000, SQLite in ./data, Vietnamese, no messenger channel', () => {
    const config = parseConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBe('file:./data/bot.db');
    expect(config.defaultLocale).toBe('vi');
    expect(config.telegram).toBeUndefined();
    expect(config.zalo).toBeUndefined();
    expect(config.publicUrl).toBeUndefined();
    expect(config.adminIds).toEqual([]);
  });

  it('treats blank values as not set', () => {
    const config = parseConfig({ PORT: '', TELEGRAM_BOT_TOKEN: '  ', DEFAULT_LOCALE: '', PUBLIC_URL: '' });
    expect(config.port).toBe(3000);
    expect(config.telegram).toBeUndefined();
    expect(config.defaultLocale).toBe('vi');
  });

  it('reads valid values', () => {
    const config = parseConfig({
      PORT: '8080',
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_WEBHOOK_SECRET: 'a-good_secret',
      ZALO_BOT_TOKEN: ZALO_TOKEN,
      ZALO_WEBHOOK_SECRET: 'another-secret',
      PUBLIC_URL: 'https://bot.example.com/',
      DEFAULT_LOCALE: 'en',
      ADMIN_IDS: 'telegram:123456789, zalo:6ede9afa66b88fe6d6a9',
    });
    expect(config.port).toBe(8080);
    expect(config.telegram?.token).toBe(TELEGRAM_TOKEN);
    expect(config.zalo?.token).toBe(ZALO_TOKEN);
    expect(config.publicUrl).toBe('https://bot.example.com');
    expect(config.defaultLocale).toBe('en');
    expect(config.adminIds).toEqual([
      { channel: 'telegram', id: '123456789' },
      { channel: 'zalo', id: '6ede9afa66b88fe6d6a9' },
    ]);
  });

  const wrong: Array<[string, Record<string, string>, string, RegExp]> = [
    ['PORT that is not a number', { PORT: 'abc' }, 'PORT', /port number/],
    ['PORT above 65535', { PORT: '70000' }, 'PORT', /0-65535/],
    ['a Telegram token of the wrong shape', { TELEGRAM_BOT_TOKEN: 'notatoken' }, 'TELEGRAM_BOT_TOKEN', /must look like 123456789:/],
    ['a Zalo token of the wrong shape', { ZALO_BOT_TOKEN: 'bad' }, 'ZALO_BOT_TOKEN', /must look like 1234567890:/],
    ['a PUBLIC_URL that is not https', { PUBLIC_URL: 'http://example.com' }, 'PUBLIC_URL', /https:\/\//],
    [
      'PUBLIC_URL with a Telegram token but no webhook secret',
      { PUBLIC_URL: 'https://example.com', TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN },
      'TELEGRAM_WEBHOOK_SECRET',
      /8-256 characters.*PUBLIC_URL/,
    ],
    [
      'PUBLIC_URL with a Zalo token but no webhook secret',
      { PUBLIC_URL: 'https://example.com', ZALO_BOT_TOKEN: ZALO_TOKEN },
      'ZALO_WEBHOOK_SECRET',
      /8-256 characters.*PUBLIC_URL/,
    ],
    ['an unknown DEFAULT_LOCALE', { DEFAULT_LOCALE: 'fr' }, 'DEFAULT_LOCALE', /vi or en/],
    ['ADMIN_IDS that are not channel:id pairs', { ADMIN_IDS: 'garbage' }, 'ADMIN_IDS', /channel:id pair/],
  ];

  it.each(wrong)('stops on %s, naming the variable and what it expects', (_what, env, variable, expected) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`${variable} `)).toBe(true);
    expect(problems[0]).toMatch(expected);
  });

  it('lists every wrong variable together', () => {
    const problems = problemsOf({ PORT: 'abc', DEFAULT_LOCALE: 'fr', ADMIN_IDS: 'garbage', ZALO_BOT_TOKEN: 'bad' });
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['ADMIN_IDS', 'DEFAULT_LOCALE', 'PORT', 'ZALO_BOT_TOKEN']);
  });

  it('shows the wrong value of ordinary variables but never echoes tokens or secrets', () => {
    expect(problemsOf({ PORT: 'abc' })[0]).toContain('"abc"');
    const secretish = '42:this looks secret';
    const secretValues = {
      TELEGRAM_BOT_TOKEN: secretish,
      ZALO_BOT_TOKEN: 'zalo-secret-value',
      TELEGRAM_WEBHOOK_SECRET: 'no spaces allowed here',
      ZALO_WEBHOOK_SECRET: 'short',
    };
    const problems = problemsOf(secretValues);
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(Object.keys(secretValues).sort());
    const all = problems.join('\n');
    for (const value of Object.values(secretValues)) expect(all).not.toContain(value);
    // A valid token is not shown either when another variable about it is wrong.
    const missingSecret = problemsOf({ PUBLIC_URL: 'https://example.com', TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN }).join('\n');
    expect(missingSecret).not.toContain(TELEGRAM_TOKEN);
  });
});

describe('parseConfig: the security defaults (issue 8, L3, L5, L8)', () => {
  it('DEMO_DATA is on only for a local try-out: off as soon as PUBLIC_URL or a messenger token is set', () => {
    expect(parseConfig({}).demoData).toBe(true);
    expect(parseConfig({ PUBLIC_URL: 'https://bot.example.com' }).demoData).toBe(false);
    expect(parseConfig({ TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN }).demoData).toBe(false);
    expect(parseConfig({ ZALO_BOT_TOKEN: ZALO_TOKEN }).demoData).toBe(false);
    expect(parseConfig({ DEMO_DATA: 'off' }).demoData).toBe(false);
    expect(parseConfig({ TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, DEMO_DATA: 'on' })).toMatchObject({ demoData: true, warnings: [] });
    // Asked for explicitly on a public server: allowed, with a warning the service logs at start-up.
    const publicDemo = parseConfig({ PUBLIC_URL: 'https://bot.example.com', DEMO_DATA: 'on' });
    expect(publicDemo.demoData).toBe(true);
    expect(publicDemo.warnings).toEqual([expect.stringMatching(/^DEMO_DATA=on with PUBLIC_URL set: .*invite codes/)]);
    expect(parseConfig({}).warnings).toEqual([]);
    expect(problemsOf({ DEMO_DATA: 'yes' })[0]).toMatch(/^DEMO_DATA must be on or off/);
  });

  it('ADMIN_IDS refuses web chat accounts and ids no channel can present', () => {
    const web = problemsOf({ ADMIN_IDS: 'telegram:123456789,web:officerKMsess00000000001' });
    expect(web).toHaveLength(1);
    expect(web[0]).toMatch(/^ADMIN_IDS cannot name a web chat account .*administrators are Telegram or Zalo accounts/);
    expect(problemsOf({ ADMIN_IDS: 'telegram:notanumber' })[0]).toMatch(/^ADMIN_IDS "telegram:notanumber" is not a valid id: a Telegram user id is a positive whole number/);
    expect(problemsOf({ ADMIN_IDS: 'telegram:0' })[0]).toMatch(/not a valid id/);
    expect(problemsOf({ ADMIN_IDS: 'telegram:123456789012345678901' })[0]).toMatch(/not a valid id/);
    const long = problemsOf({ ADMIN_IDS: `zalo:${'a'.repeat(5000)}` })[0]!;
    expect(long).toMatch(/a Zalo user id is 8-32 hexadecimal characters/);
    expect(long.length).toBeLessThan(500); // the value is shortened in the message
    expect(parseConfig({ ADMIN_IDS: 'telegram:1,zalo:6ede9afa66b88fe6d6a9' }).adminIds).toHaveLength(2);
  });

  it('never echoes the user:password of a URL variable, nor password query parameters (L5)', () => {
    const cases: Record<string, string> = {
      DATABASE_URL: 'mysql://bot:S3cretPassw0rd@h/db',
      PUBLIC_URL: 'http://admin:Hunter2Pass@bot.example.com',
      TELEGRAM_API_ROOT: 'ftp://tg:TgRootPass@tg.example.com',
      ZALO_API_ROOT: 'gopher://zl:ZaloRootPass@zl.example.com',
    };
    const problems = problemsOf(cases);
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(Object.keys(cases).sort());
    const all = problems.join('\n');
    for (const password of ['S3cretPassw0rd', 'Hunter2Pass', 'TgRootPass', 'ZaloRootPass', 'bot:', 'admin:']) expect(all).not.toContain(password);
    // The rest of the value is still shown, so the mistake can be found.
    expect(all).toContain('(got "mysql://***@h/db")');
    const query = problemsOf({ DATABASE_URL: 'mysql://h/db?user=bot&password=QuerySecret1' }).join('\n');
    expect(query).not.toContain('QuerySecret1');
    expect(query).toContain('password=***');
  });
});

describe('npm start with a wrong environment', () => {
  it('exits non-zero and names the variable on stderr', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bot-config-'));
    try {
      const root = path.resolve(import.meta.dirname, '..');
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = execFile(
          path.join(root, 'node_modules', '.bin', 'tsx'),
          ['src/main.ts'],
          {
            cwd: root,
            timeout: 25_000,
            // Only what the process needs: a token in the outer environment must not change the outcome.
            env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, PORT: 'abc', DATABASE_URL: `file:${path.join(dir, 'bot.db')}` },
          },
          (error, _stdout, stderr) => {
            if (error && error.killed) reject(new Error(`tsx src/main.ts did not stop: ${stderr}`));
            else resolve({ code: child.exitCode, stderr });
          },
        );
      });
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr).toMatch(/PORT must be a port number/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
