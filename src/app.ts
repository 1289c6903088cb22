/**
 * Builds the whole service from a Config: database, core, channels, HTTP server.
 * main.ts calls it for `npm start`; tests call it to run the real service in-process.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './project-root.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { openDatabase } from './persistence/database.js';
import { importAreas } from './persistence/area-import.js';
import { createWebInbox } from './persistence/web-inbox.repository.js';
import { createWebSessions } from './persistence/web-session.repository.js';
import { createTranslator, loadResources } from './i18n.js';
import { createServices } from './core/services/services.js';
import { createBotCore, type Feature } from './core/bot-core.js';
import { createReplySink } from './delivery/reply-sink.js';
import { generalFeature } from './core/features/general.feature.js';
import { confirmRepeatsFeature } from './core/features/confirm-repeats.feature.js';
import { groupsFeature } from './core/features/groups.feature.js';
import { casesFeature } from './core/features/cases.feature.js';
import { alertsFeature } from './core/features/alerts.feature.js';
import { settingsFeature } from './core/features/settings.feature.js';
import { participationFeature } from './core/features/participation.feature.js';
import { startParticipationJobs } from './jobs/monthly-account.job.js';
import { createConsoleFeature } from './core/features/console.feature.js';
import { createLazyConsole } from './console/console-lazy.js';
import { startAlertFollowUpJob } from './jobs/alert-follow-up.job.js';
import type { PhotoSource } from './core/ports/photo-source.js';
import { createImageFiles } from './media/image-files.js';
import { startOrphanSweepJob } from './media/orphan-sweep.job.js';
import { createMediaRoute, createUploadHandler } from './http/media-route.js';
import { createDeliveryWorker, type DeliveryWorker } from './delivery/delivery-worker.js';
import { startEscalationJob } from './jobs/escalation.job.js';
import { startLeaseKeeper, type LeasedWork } from './jobs/lease-keeper.js';
import { createLeases, holderId } from './persistence/lease.js';
import { createDeliveryWakeups, type DeliveryWakeups } from './persistence/delivery-wakeups.js';
import { tracingLogger, withTrace, newTraceId } from './observability/trace.js';
import { systemClock, type Clock } from './core/ports/clock.js';
import { LOCALES, asLocale } from './core/ports/translator.js';
import { createHttpServer } from './http/server.js';
import { createMetrics, type QueueStats } from './observability/metrics.js';
import { createTelegramChannel } from './channels/telegram/telegram.channel.js';
import { createZaloChannel } from './channels/zalo/zalo.channel.js';
import { createWebChannel, webPayload, type WebLimits } from './channels/web/web.channel.js';
import type { ChannelRuntime } from './channels/channel.js';

const DEMO_FILE = path.join(PROJECT_ROOT, 'prisma', 'seed', 'demo-areas.json');

/** Commands shown in Telegram's menu, with their description keys, in display order. */
const COMMAND_MENU: Array<[string, string]> = [
  ['start', 'menu:cmd_start'],
  ['menu', 'menu:cmd_menu'],
  ['report', 'menu:cmd_report'],
  ['myreports', 'menu:cmd_myreports'],
  ['cases', 'menu:cmd_cases'],
  ['alert', 'menu:cmd_alert'],
  ['console', 'menu:cmd_console'],
  ['groups', 'menu:cmd_groups'],
  ['polls', 'polls:cmd_polls'],
  ['poll', 'polls:cmd_poll'],
  ['mediation', 'mediation:cmd_mediation'],
  ['forums', 'forums:cmd_forums'],
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
  /** How often polls are checked for closing and the monthly account for sending (default 30 s). */
  participationJobMs?: number;
  /** How often senders' live alert counts are refreshed (default 3 s). */
  alertFollowUpMs?: number;
  /** Web chat abuse limits (tests; the defaults are in web.channel.ts). */
  webLimits?: Partial<WebLimits>;
  /** Lease timing (tests): time-to-live and how often leases are renewed or tried (see jobs/lease-keeper.ts). */
  lease?: { ttlMs?: number; everyMs?: number };
}

export async function createApp(config: Config, options: AppOptions) {
  // Every line written while an update is handled carries its log id (observability/trace.ts).
  const logger = tracingLogger(options.logger);
  const clock = options.clock ?? systemClock;
  const database = await openDatabase(config.databaseUrl);
  const { db } = database;
  if (database.appliedMigrations.length) logger.info(`database: applied ${database.appliedMigrations.join(', ')}`);

  const resources = loadResources();
  const translator = createTranslator(config.defaultLocale, resources);
  const workers = new Map<string, DeliveryWorker>();
  // Photos people send are copied while the platform's link is valid; see PhotoSource.
  // Downloads are fenced (allowed hosts, no redirects, no private addresses, a byte limit) and
  // stored as re-encoded files without metadata (config.media.dir).
  const photoSource: PhotoSource = {
    async fetch(channel, photo, maxBytes) {
      const fence = { allowHosts: config.media.fetchHosts, maxBytes };
      if (channel === 'telegram' && photo.fileId && telegram) return telegram.fetchPhoto(photo.fileId, fence);
      if (channel === 'zalo' && photo.url && zalo) return zalo.fetchPhoto(photo.url, fence);
      throw new Error(`cannot fetch a ${channel} photo`);
    },
  };
  const mediaFiles = createImageFiles(path.resolve(config.media.dir));
  const services = createServices({
    db,
    defaultLocale: config.defaultLocale,
    clock,
    translator,
    publicUrl: config.publicUrl,
    escalation: config.escalation,
    // A public web chat is open to anyone: there, groups are joined with an invite code only.
    webJoinNeedsInviteCode: Boolean(config.publicUrl),
    photoSource,
    mediaFiles,
    onQueued: (channels) => queued(channels),
  });
  for (const warning of config.warnings ?? []) logger.warn(warning);
  if (config.demoData && (await services.areas.isEmpty())) {
    const counts = await importAreas(db, JSON.parse(readFileSync(DEMO_FILE, 'utf8')));
    logger.info(`database was empty: loaded the demo area tree (${counts.areas} areas, ${counts.groups} groups)`);
  }

  for (const admin of config.adminIds) {
    await services.roles.grant(null, await services.roles.personFor(admin.channel, admin.id, config.defaultLocale), 'admin');
  }

  // The officers' and leaders' web console (/console): one-time sign-in links from the bot.
  const consoleWeb = createLazyConsole({ db, services, translator, clock, logger, defaultLocale: config.defaultLocale, publicUrl: config.publicUrl, tileUrl: config.consoleTileUrl, port: () => port });
  const features: Feature[] = [casesFeature, alertsFeature, groupsFeature, settingsFeature, createConsoleFeature({ issueLink: consoleWeb.issueLink }), generalFeature, participationFeature, confirmRepeatsFeature];
  // Direct replies: to the outbox (paced, ordered per chat) or the web inbox, in the turn's transaction.
  // A reply goes straight to this instance's sender, skipping the claim, when nothing waits before it (reply-sink.ts).
  const core = createBotCore({ services, translator, features, logger, messageLimit: config.messageLimit, replies: createReplySink({
      inboxes: { web: (tx, chatId, replies) => createWebInbox(tx as typeof db).push(chatId, replies.map(webPayload)) },
      handOver: {
        claimer: (channel) => workers.get(channel)?.claimer(),
        adopt(rows) {
          for (const channel of new Set(rows.map((r) => r.channel))) workers.get(channel)?.adopt(rows.filter((r) => r.channel === channel));
        },
      },
    }),
  });

  /** The outbox's depth and oldest waiting row per channel: for /healthz and /metrics. */
  async function queueStats(): Promise<QueueStats> {
    const rows = await db.delivery.groupBy({
      by: ['channel'],
      where: { status: { in: ['queued', 'sending'] } },
      _count: { _all: true },
      _min: { createdAt: true },
    });
    const at = clock.now().getTime();
    return {
      depth: Object.fromEntries(rows.map((r) => [r.channel, r._count._all])),
      oldestAgeSeconds: Object.fromEntries(rows.map((r) => [r.channel, r._min.createdAt ? Math.max(0, (at - r._min.createdAt.getTime()) / 1000) : 0])),
    };
  }
  const metrics = createMetrics({
    queueStats,
    deliveryStats: () => Object.fromEntries([...workers].map(([name, worker]) => [name, worker.stats()])),
  });
  /**
   * The core's handler, counted and timed for /metrics, each update under a log id of its own:
   * its log lines and the outbox rows it queues carry the id, and so do the lines of their sends.
   */
  const handle: typeof core.handle = (inbound) =>
    withTrace(async () => {
      const startedAt = performance.now();
      try {
        const replies = await core.handle(inbound);
        metrics.updateHandled(inbound.channel, 'ok', startedAt);
        logger.info('update handled', { channel: inbound.channel, update: inbound.updateId, ms: Math.round((performance.now() - startedAt) * 10) / 10 });
        return replies;
      } catch (error) {
        metrics.updateHandled(inbound.channel, 'error', startedAt);
        // The channel answers for it (a webhook answers 500 and the platform sends it again): a warning here.
        logger.warn('update failed', { channel: inbound.channel, update: inbound.updateId, error });
        throw error;
      }
    }, newTraceId());

  const commandSets = LOCALES.map((locale) => ({
    languageCode: locale === config.defaultLocale ? '' : locale,
    commands: COMMAND_MENU.map(([command, key]) => ({ command, description: translator.t(locale, key) })),
  }));

  const channels: ChannelRuntime[] = [];
  const telegram = config.telegram
    ? createTelegramChannel({
        ...config.telegram,
        publicUrl: config.publicUrl,
        handle,
        logger,
        commands: commandSets,
        loadMedia: (id) => services.media.content(id),
      })
    : undefined;
  const zalo = config.zalo
    ? createZaloChannel({
        ...config.zalo,
        publicUrl: config.publicUrl,
        handle,
        logger,
        pollTimeoutSeconds: options.zaloPoll?.timeoutSeconds,
        backoff: options.zaloPoll?.backoff,
        mediaLink: (id) => services.media.signedPath(id),
      })
    : undefined;
  // WEB_CHAT=off: no page, no /api/web/*, no web delivery worker (webhooks, /healthz and /media stay).
  const web = config.webChat ? createWebChannel({
    handle,
    inbox: createWebInbox(db),
    sessions: createWebSessions(db, { defaultLocale: config.defaultLocale, clock }),
    t: (locale, key) => translator.t(asLocale(locale, config.defaultLocale), key),
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    limits: options.webLimits,
    logger,
    // Uploads are streamed to disk by the media service (savePhotoStream); nothing is buffered.
    savePhoto: async () => {
      throw new Error('web photos are streamed through savePhotoStream');
    },
    savePhotoStream: createUploadHandler(services.media),
    mediaLink: (id) => services.media.signedPath(id),
    uiStrings: Object.fromEntries(LOCALES.map((l) => [l, resources[l]?.web ?? {}])),
    defaultLocale: config.defaultLocale,
    async localeOfSession(session) {
      const account = await services.people.findAccount('web', session);
      if (!account) return undefined;
      return (await db.person.findUnique({ where: { id: account.personId } }))?.locale;
    },
  }) : undefined;
  if (telegram) channels.push(telegram);
  if (zalo) channels.push(zalo);
  if (web) channels.push(web);

  // Several instances may share the database: each bot token's sender and the timers run where
  // their lease is held (jobs/lease-keeper.ts); the holder id names this process in the Lease table.
  const leases = createLeases(db, holderId(config.instanceName));
  const leased: LeasedWork[] = [];
  let keeper: ReturnType<typeof startLeaseKeeper> | undefined;
  const senderLease = (name: string) =>
    name === 'telegram' && config.telegram ? `sender:telegram:${config.telegram.token.split(':')[0]}`
    : name === 'zalo' && config.zalo ? `sender:zalo:${config.zalo.token.split(':')[0]}`
    : `sender:${name}`;
  let wakeups: DeliveryWakeups | undefined;
  /** After a commit that queued messages: wake the sender, here or (PostgreSQL) on the instance holding its lease. */
  function queued(names: Set<string>) {
    names.forEach((c) => workers.get(c)?.kick());
    if (wakeups) {
      const elsewhere = [...names].filter((c) => !keeper?.holds(senderLease(c)));
      if (elsewhere.length) wakeups.notify(elsewhere);
    }
  }
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
        instanceId: leases.holder,
        mayClaim: () => keeper?.holds(senderLease(channel.name)) ?? false,
        ...options.delivery,
        // Typing a number answers the notification just received (when no flow owns the numbers).
        // Its choices are offered before it goes out: the person may answer the moment it arrives,
        // before the platform's answer reached the worker. Direct replies are left out (conversation.service.ts).
        async beforeSend(rows) {
          const offers = services.conversations.offersOf(rows);
          if (offers.length) await services.conversations.offerChoicesMany(offers);
        },
        // A notification refused for good never arrived: its offer is taken back, unless replaced since.
        async refused(rows) {
          const offers = services.conversations.offersOf(rows);
          if (offers.length) await services.conversations.withdrawChoicesMany(offers);
        },
      }),
    );
  }
  let escalation: ReturnType<typeof startEscalationJob> | undefined;
  let mediaSweep: ReturnType<typeof startOrphanSweepJob> | undefined;
  let alertFollowUp: ReturnType<typeof startAlertFollowUpJob> | undefined;
  let participation: ReturnType<typeof startParticipationJobs> | undefined;

  const http = createHttpServer({
    logger,
    publicUrl: config.publicUrl,
    webhooks: {
      telegram: telegram && config.publicUrl
        ? { secret: telegram.webhookSecret, secretHeader: 'x-telegram-bot-api-secret-token', accept: (body) => acceptTelegram(body, telegram.handleWebhookUpdate) }
        : undefined,
      zalo: zalo && config.publicUrl
        ? { secret: zalo.webhookSecret, secretHeader: 'x-bot-api-secret-token', accept: (body) => zalo.handleWebhookBody(body) }
        : undefined,
    },
    routes: [
      async (req, res, url) => (web ? web.route(req, res, url) : false),
      createMediaRoute(services.media, logger),
      async (req, res, url) => {
        if (req.method !== 'GET' || url.pathname !== '/metrics') return false;
        const { contentType, body } = await metrics.render();
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(body);
        return true;
      },
      (req, res, url) => consoleWeb.route(req, res, url),
    ],
    async health() {
      // Reading the queue checks the database too: an unreachable database answers 500.
      const queue = await queueStats();
      // Which background work runs on this instance (several instances share it through leases).
      const held = leased.filter((w) => keeper?.holds(w.name)).map((w) => w.name);
      return { channels: Object.fromEntries(channels.map((c) => [c.name, c.mode])), queue, leases: held };
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

  /**
   * What start-up leaves out (the console's pages, prom-client) is loaded just after the service
   * answers, so neither the first answer nor the first /console page or scrape waits for it.
   */
  let warmUpTimer: NodeJS.Timeout | undefined;
  /** The messengers' start calls (a messenger that cannot be reached is retried: startOrRetry). */
  async function startChannels(): Promise<string[]> {
    const [telegramLine, zaloLine] = await Promise.all([
      telegram ? startOrRetry(telegram, 'TELEGRAM_BOT_TOKEN and TELEGRAM_API_ROOT') : 'off (set TELEGRAM_BOT_TOKEN to turn it on)',
      zalo ? startOrRetry(zalo, 'ZALO_BOT_TOKEN and ZALO_API_ROOT') : 'off (set ZALO_BOT_TOKEN to turn it on)',
    ]);
    return [`telegram: ${telegramLine}`, `zalo: ${zaloLine}`, web ? `web chat: on at http://localhost:${port}/` : 'web chat: off (WEB_CHAT=off)'];
  }

  /** The senders and timers, behind leases: several instances share one database. */
  async function startBackgroundJobs(): Promise<string[]> {
    if (config.databaseUrl.startsWith('postgres')) {
      wakeups = await createDeliveryWakeups(config.databaseUrl, (channel) => workers.get(channel)?.kick(), logger);
    }
    if (!config.backgroundJobs) {
      return ['background jobs: off (BACKGROUND_JOBS=off: another instance sends messages and runs the timers)'];
    }
    for (const [name, worker] of workers) {
      leased.push({
        name: senderLease(name),
        async start() {
          // The previous holder is gone or has stopped sending: what it had claimed goes back to the queue.
          const recovered = await worker.recover();
          if (recovered) logger.warn(`delivery: ${recovered} ${name} message(s) were being sent when their sender stopped; sending them again`);
          await worker.start();
        },
        stop: () => worker.stop(),
      });
    }
    leased.push({
      name: 'timers',
      async start() {
        alertFollowUp = startAlertFollowUpJob({
          services,
          translator,
          editors: new Map(channels.map((c) => [c.name, c])),
          logger,
          everyMs: options.alertFollowUpMs,
        });
        participation = startParticipationJobs({
          closeDuePolls: () => services.polls.closeDue(),
          sendMonthlyAccounts: () => services.monthlyAccount.sendDue(),
          askMediationFollowUps: () => services.mediation.followUpDue(),
          logger,
          everyMs: options.participationJobMs,
        });
        mediaSweep = startOrphanSweepJob({ sweep: () => services.media.sweepOrphans(), logger });
        if (options.escalationJob !== false) {
          escalation = startEscalationJob({ escalateOverdue: () => services.cases.escalateOverdue(), logger });
        }
      },
      async stop() {
        escalation?.stop();
        mediaSweep?.stop();
        participation?.stop();
        alertFollowUp?.stop();
        escalation = mediaSweep = participation = alertFollowUp = undefined;
      },
    });
    keeper = startLeaseKeeper({ leases, work: leased, logger, ttlMs: options.lease?.ttlMs, everyMs: options.lease?.everyMs });
    // One round before answering: a lone instance (or the first one) sends and runs the timers at once.
    await keeper.tick();
    const held = leased.filter((w) => keeper!.holds(w.name)).map((w) => w.name);
    return [`background jobs: ${held.length ? `here: ${held.join(', ')}` : 'another instance holds them; this one takes over if it stops'}`];
  }

  function warmUp(): void {
    warmUpTimer = setTimeout(() => {
      warmUpTimer = undefined;
      consoleWeb.load().catch((error) => logger.warn('loading the console failed', { error }));
      metrics.load().catch((error) => logger.warn('loading the metrics failed', { error }));
      // Prisma's query compiler, which nothing on the way to the first answer needs (the hot path,
      // the leases and the senders' claims are prepared statements), so the first report or
      // console page does not wait for it either.
      db.$connect().catch((error) => logger.warn('starting the database client failed', { error }));
    }, 1000);
    warmUpTimer.unref();
  }

  let port = 0;
  return {
    config,
    db,
    services,
    core,
    consoleWeb,
    translator,
    telegram,
    zalo,
    web,
    get port() {
      return port;
    },
    /**
     * Starts the HTTP server, then every channel and the background work together (each mostly
     * waits on the network or the database); returns one status line per channel and one for the jobs.
     */
    async start(): Promise<string[]> {
      port = await http.listen(config.port, config.host);
      const [channelLines, jobLines] = await Promise.all([startChannels(), startBackgroundJobs()]);
      warmUp();
      return [...channelLines, ...jobLines];
    },
    workers,
    get alertFollowUp() {
      return alertFollowUp;
    },
    /** The leases this instance holds now ("sender:telegram:<bot id>", "timers"). */
    heldLeases: () => leased.filter((w) => keeper?.holds(w.name)).map((w) => w.name),
    leases,
    async stop(): Promise<void> {
      retries.forEach((timer) => clearTimeout(timer));
      clearTimeout(warmUpTimer);
      // Stops the senders and timers this instance runs and gives their leases back at once.
      await keeper?.stop();
      await wakeups?.close();
      await mediaFiles.close(); // the image re-encoding process
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

async function acceptTelegram(body: unknown, handle: (update: unknown) => Promise<void>): Promise<boolean> {
  if (typeof (body as { update_id?: unknown }).update_id !== 'number') return false;
  await handle(body); // answered 200 only once the update's effects are committed
  return true;
}

export type App = Awaited<ReturnType<typeof createApp>>;
