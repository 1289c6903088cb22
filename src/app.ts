/**
 * Builds the whole service from a Config: database, core, channels, HTTP server.
 * main.ts calls it for `npm start`; tests call it to run the real service in-process.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { openDatabase } from './persistence/database.js';
import { importAreas } from './persistence/area-import.js';
import { createWebInbox } from './persistence/web-inbox.repository.js';
import { createTranslator, loadResources } from './i18n.js';
import { createServices } from './core/services/services.js';
import { createBotCore, type Feature } from './core/bot-core.js';
import { generalFeature } from './core/features/general.feature.js';
import { groupsFeature } from './core/features/groups.feature.js';
import { casesFeature } from './core/features/cases.feature.js';
import { alertsFeature } from './core/features/alerts.feature.js';
import { settingsFeature } from './core/features/settings.feature.js';
import { startAlertFollowUpJob } from './jobs/alert-follow-up.job.js';
import type { PhotoSource } from './core/ports/photo-source.js';
import { createDeliveryWorker, type DeliveryWorker } from './delivery/delivery-worker.js';
import { startEscalationJob } from './jobs/escalation.job.js';
import { systemClock, type Clock } from './core/ports/clock.js';
import { LOCALES } from './core/ports/translator.js';
import { createHttpServer } from './http/server.js';
import { sendJson } from './http/http-util.js';
import { createTelegramChannel } from './channels/telegram/telegram.channel.js';
import { createZaloChannel } from './channels/zalo/zalo.channel.js';
import { createWebChannel } from './channels/web/web.channel.js';
import type { ChannelRuntime } from './channels/channel.js';

const DEMO_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'prisma', 'seed', 'demo-areas.json');

/** Commands shown in Telegram's menu, with their description keys, in display order. */
const COMMAND_MENU: Array<[string, string]> = [
  ['start', 'menu:cmd_start'],
  ['menu', 'menu:cmd_menu'],
  ['report', 'menu:cmd_report'],
  ['myreports', 'menu:cmd_myreports'],
  ['cases', 'menu:cmd_cases'],
  ['alert', 'menu:cmd_alert'],
  ['groups', 'menu:cmd_groups'],
  ['join', 'menu:cmd_join'],
  ['settings', 'settings:cmd_settings'],
  ['link', 'settings:cmd_link'],
  ['lang', 'menu:cmd_lang'],
  ['resume', 'menu:cmd_resume'],
  ['cancel', 'menu:cmd_cancel'],
  ['help', 'menu:cmd_help'],
  ['delete_me', 'settings:cmd_delete_me'],
];

export interface AppOptions {
  logger: Logger;
  clock?: Clock;
  /** Zalo polling knobs for tests. */
  zaloPoll?: { timeoutSeconds?: number; backoff?: { initialMs?: number; maxMs?: number } };
  /** Delivery worker knobs (tests and the benchmark). */
  delivery?: { idlePollMs?: number; concurrency?: number; batchSize?: number; now?: () => number };
  /** Tests drive escalation themselves with a controllable clock. */
  escalationJob?: boolean;
  /** How often senders' live alert counts are refreshed (default 3 s). */
  alertFollowUpMs?: number;
}

export async function createApp(config: Config, options: AppOptions) {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const database = await openDatabase(config.databaseUrl);
  const { db } = database;
  if (database.appliedMigrations.length) logger.info(`database: applied ${database.appliedMigrations.join(', ')}`);

  const resources = loadResources();
  const translator = createTranslator(config.defaultLocale, resources);
  const workers = new Map<string, DeliveryWorker>();
  // Photos people send are copied while the platform's link is valid; see PhotoSource.
  const photoSource: PhotoSource = {
    async fetch(channel, photo) {
      if (channel === 'telegram' && photo.fileId && telegram) return telegram.fetchPhoto(photo.fileId);
      if (channel === 'zalo' && photo.url && zalo) return zalo.fetchPhoto(photo.url);
      throw new Error(`cannot fetch a ${channel} photo`);
    },
  };
  const services = createServices({
    db,
    defaultLocale: config.defaultLocale,
    clock,
    translator,
    publicUrl: config.publicUrl,
    escalation: config.escalation,
    photoSource,
    onQueued: (channels) => channels.forEach((c) => workers.get(c)?.kick()),
  });
  if (config.demoData && (await services.areas.isEmpty())) {
    const counts = await importAreas(db, JSON.parse(readFileSync(DEMO_FILE, 'utf8')));
    logger.info(`database was empty: loaded the demo area tree (${counts.areas} areas, ${counts.groups} groups)`);
  }

  for (const admin of config.adminIds) {
    await services.roles.grant(null, await services.roles.personFor(admin.channel, admin.id), 'admin');
  }

  const features: Feature[] = [casesFeature, alertsFeature, groupsFeature, settingsFeature, generalFeature];
  const core = createBotCore({ services, translator, features, logger });

  const commandSets = LOCALES.map((locale) => ({
    languageCode: locale === config.defaultLocale ? '' : locale,
    commands: COMMAND_MENU.map(([command, key]) => ({ command, description: translator.t(locale, key) })),
  }));

  const channels: ChannelRuntime[] = [];
  const telegram = config.telegram
    ? createTelegramChannel({
        ...config.telegram,
        publicUrl: config.publicUrl,
        handle: core.handle,
        logger,
        commands: commandSets,
        loadMedia: (id) => services.media.get(id),
      })
    : undefined;
  const zalo = config.zalo
    ? createZaloChannel({
        ...config.zalo,
        publicUrl: config.publicUrl,
        handle: core.handle,
        logger,
        pollTimeoutSeconds: options.zaloPoll?.timeoutSeconds,
        backoff: options.zaloPoll?.backoff,
      })
    : undefined;
  const web = createWebChannel({
    handle: core.handle,
    inbox: createWebInbox(db),
    logger,
    savePhoto: (bytes, mime) => services.media.save(bytes, mime),
    uiStrings: Object.fromEntries(LOCALES.map((l) => [l, resources[l]?.web ?? {}])),
    defaultLocale: config.defaultLocale,
    async localeOfSession(session) {
      const account = await services.people.findAccount('web', session);
      if (!account) return undefined;
      return (await db.person.findUnique({ where: { id: account.personId } }))?.locale;
    },
  });
  if (telegram) channels.push(telegram);
  if (zalo) channels.push(zalo);
  channels.push(web);

  const unlimited = { globalPerSecond: 1000, perChatPerSecond: 1000, perGroupPerMinute: 60_000 };
  for (const channel of channels) {
    const limits = channel.name === 'telegram' ? config.rates.telegram : channel.name === 'zalo' ? config.rates.zalo : unlimited;
    workers.set(
      channel.name,
      createDeliveryWorker({
        db,
        target: channel,
        limits,
        logger,
        ...options.delivery,
        async afterSent(rows) {
          // Typing a number answers the notification just received (when no flow owns the numbers).
          const offers = rows.flatMap((row) => {
            const ids = row.payload.choices?.flat().map((c) => c.id) ?? [];
            return ids.length && row.accountId ? [{ accountId: row.accountId, choiceIds: ids }] : [];
          });
          if (offers.length) await services.conversations.offerChoicesMany(offers);
        },
      }),
    );
  }
  let escalation: ReturnType<typeof startEscalationJob> | undefined;
  let alertFollowUp: ReturnType<typeof startAlertFollowUpJob> | undefined;

  const http = createHttpServer({
    logger,
    webhooks: {
      telegram: telegram && config.publicUrl
        ? { secret: telegram.webhookSecret, secretHeader: 'x-telegram-bot-api-secret-token', accept: (body) => acceptTelegram(body, telegram.handleWebhookUpdate) }
        : undefined,
      zalo: zalo && config.publicUrl
        ? { secret: zalo.webhookSecret, secretHeader: 'x-bot-api-secret-token', accept: (body) => zalo.handleWebhookBody(body) }
        : undefined,
    },
    routes: [
      (req, res, url) => web.route(req, res, url),
      async (req, res, url) => {
        const match = req.method === 'GET' && url.pathname.match(/^\/media\/([A-Za-z0-9_-]+)$/);
        if (!match) return false;
        const media = await services.media.get(match[1]!);
        if (!media) sendJson(res, 404, { error: 'not found' });
        else {
          res.writeHead(200, { 'content-type': media.mime, 'cache-control': 'private, max-age=86400' });
          res.end(Buffer.from(media.bytes));
        }
        return true;
      },
    ],
    async health() {
      return { channels: Object.fromEntries(channels.map((c) => [c.name, c.mode])) };
    },
  });

  /**
   * A messenger that cannot be reached at start-up (down, wrong token) does not take the
   * service down: the web chat runs, and the channel is tried again every 30 seconds.
   */
  const retries = new Set<NodeJS.Timeout>();
  async function startOrRetry(channel: ChannelRuntime, check: string): Promise<string> {
    try {
      return await channel.start();
    } catch (error) {
      const reason = describeStartFailure(error);
      const retry = (): void => {
        const timer = setTimeout(() => {
          retries.delete(timer);
          channel.start().then(
            (how) => logger.info(`${channel.name}: ${how}`),
            (again) => {
              logger.warn(`${channel.name}: still not started (${describeStartFailure(again)}); trying again in 30 s`);
              retry();
            },
          );
        }, 30_000);
        timer.unref();
        retries.add(timer);
      };
      retry();
      return `not started: ${reason}. Check ${check}; trying again every 30 s`;
    }
  }

  let port = 0;
  return {
    config,
    db,
    services,
    core,
    translator,
    telegram,
    zalo,
    web,
    get port() {
      return port;
    },
    /** Starts the HTTP server, then every channel; returns one status line per channel. */
    async start(): Promise<string[]> {
      port = await http.listen(config.port, config.host);
      const lines: string[] = [];
      lines.push(`telegram: ${telegram ? await startOrRetry(telegram, 'TELEGRAM_BOT_TOKEN and TELEGRAM_API_ROOT') : 'off (set TELEGRAM_BOT_TOKEN to turn it on)'}`);
      lines.push(`zalo: ${zalo ? await startOrRetry(zalo, 'ZALO_BOT_TOKEN and ZALO_API_ROOT') : 'off (set ZALO_BOT_TOKEN to turn it on)'}`);
      lines.push(`web chat: on at http://localhost:${port}/`);
      if (!config.backgroundJobs) {
        lines.push('background jobs: off (BACKGROUND_JOBS=off: another instance sends messages and runs the timers)');
        return lines;
      }
      for (const worker of workers.values()) {
        const recovered = await worker.recover();
        if (recovered) logger.warn(`delivery: ${recovered} message(s) were being sent when the service stopped; sending them again`);
        await worker.start();
      }
      alertFollowUp = startAlertFollowUpJob({
        services,
        translator,
        editors: new Map(channels.map((c) => [c.name, c])),
        logger,
        everyMs: options.alertFollowUpMs,
      });
      if (options.escalationJob !== false) {
        escalation = startEscalationJob({ escalateOverdue: () => services.cases.escalateOverdue(), logger });
      }
      return lines;
    },
    workers,
    get alertFollowUp() {
      return alertFollowUp;
    },
    async stop(): Promise<void> {
      retries.forEach((timer) => clearTimeout(timer));
      escalation?.stop();
      alertFollowUp?.stop();
      for (const worker of workers.values()) await worker.stop();
      for (const channel of channels) await channel.stop().catch((error) => logger.warn(`stopping ${channel.name} failed`, { error }));
      await http.close();
      await database.close();
    },
  };
}

function describeStartFailure(error: unknown): string {
  const e = error as { error_code?: number; errorCode?: number; description?: string; message?: string };
  const code = e.error_code ?? e.errorCode;
  if (code !== undefined) return `the Bot API answered ${code}${e.description ? ` (${e.description})` : ''}`;
  return e.message ?? String(error);
}

function acceptTelegram(body: unknown, handle: (update: unknown) => void): boolean {
  if (typeof (body as { update_id?: unknown }).update_id !== 'number') return false;
  handle(body);
  return true;
}

export type App = Awaited<ReturnType<typeof createApp>>;
