/**
 * The service running against both fake platforms (Telegram and Zalo, polling), for the
 * end-to-end tests that have people on several channels. What is started is registered in
 * the test's `cleanups`, which the test file runs newest first after each test.
 */
import { rmSync } from 'node:fs';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram-server.js';
import { startFakeZalo, type FakeZalo } from '../fakes/fake-zalo-server.js';
import { startTestApp, tempDir, type TestApp } from './test-app.js';
import type { AppOptions } from '../../src/app.js';

export type Cleanups = Array<() => Promise<void> | void>;

export interface Fakes {
  tg: FakeTelegram;
  zalo: FakeZalo;
}

export interface World extends Fakes {
  t: TestApp;
}

/** Both fake platforms, closed after the test. */
export async function startFakes(telegramToken: string, cleanups: Cleanups): Promise<Fakes> {
  const tg = await startFakeTelegram({ token: telegramToken });
  const zalo = await startFakeZalo();
  cleanups.push(async () => {
    await tg.close();
    await zalo.close();
  });
  return { tg, zalo };
}

/** A temporary folder for the database, removed after the test (once the app using it has stopped). */
export function tempDirRemovedAfter(cleanups: Cleanups): string {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The service on both fakes. Only stopped after the test, so a test may restart it on the same folder. */
export async function startAppOnFakes(fakes: Fakes, cleanups: Cleanups, options: { dir?: string; appOptions?: Partial<AppOptions> } = {}): Promise<TestApp> {
  const t = await startTestApp({
    dir: options.dir,
    appOptions: options.appOptions,
    env: {
      TELEGRAM_BOT_TOKEN: fakes.tg.token,
      TELEGRAM_API_ROOT: fakes.tg.apiRoot,
      ZALO_BOT_TOKEN: fakes.zalo.token,
      ZALO_API_ROOT: fakes.zalo.apiRoot,
    },
  });
  cleanups.push(() => t.stop());
  return t;
}

/** Both fakes, a database folder of its own and the service on them. */
export async function startWorld(telegramToken: string, cleanups: Cleanups, appOptions?: Partial<AppOptions>): Promise<World> {
  const fakes = await startFakes(telegramToken, cleanups);
  const dir = tempDirRemovedAfter(cleanups);
  return { ...fakes, t: await startAppOnFakes(fakes, cleanups, { dir, appOptions }) };
}
