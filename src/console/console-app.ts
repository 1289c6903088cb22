/**
 * The officers' and leaders' web console, served by the same HTTP server as the web chat
 * (mounted as one route; Hono through @hono/node-server's request listener). Every decision
 * about who may see or do what is the case service's (and so src/core/authz/policy.ts's);
 * this file only turns requests into those calls and their answers into pages.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { bodyLimit } from 'hono/body-limit';
import { getRequestListener } from '@hono/node-server';
import type { Services } from '../core/services/services.js';
import type { Translator, Locale } from '../core/ports/translator.js';
import { asLocale } from '../core/ports/translator.js';
import type { Clock } from '../core/ports/clock.js';
import type { Logger } from '../logger.js';
import type { Db } from '../core/services/db.js';
import { DomainError } from '../core/errors.js';
import { MAX_DESCRIPTION } from '../core/flows/report.flow.js';
import { createConsoleAuth, SESSION_TTL_MS, type ConsoleAuth, type ConsoleSessionInfo } from './console-auth.js';
import { createConsoleQueries, parseFilter } from './console-queries.js';
import { createConsoleStats, parsePeriod } from './console-stats.js';
import { buildCsv, buildWorkbook } from './console-report.js';
import { dashboardPage, mapPage } from './pages-dashboard.js';
import { alertPage, alertsPage, composePage, countsBlock, type AlertCountsView, type ComposeValues } from './pages-alerts.js';
import { MAX_ALERT_TEXT, MAX_HEADLINE, MAX_INSTRUCTION } from '../core/flows/alert.flow.js';
import { ALERT_CATEGORIES, ALERT_CATEGORY_KEYS, SEVERITIES, SEVERITY_KEYS, isAlertCategory, isSeverity } from '../core/services/alert.catalog.js';
import { randomBytes } from 'node:crypto';
import { MAX_NOTICE } from '../core/flows/groups.flow.js';
import { groupPage, groupsPage } from './pages-groups.js';
import { registerParticipationRoutes } from './console-participation.js';
import { PROJECT_ROOT } from '../project-root.js';
import { securityHeaders } from '../http/http-util.js';
import { casePage, devicesPage, DONE_KEYS, messagePage, queuePage, signInPage, TEXT_ACTIONS, type ConsoleAction, type PageFrame, type T } from './pages.js';

const COOKIE = 'console_session';
const GROUP_DONE_KEYS: Record<string, string> = {
  approve: 'console:groupDoneApprove',
  refuse: 'console:groupDoneRefuse',
  deputy: 'console:groupDoneDeputy',
  undeputy: 'console:groupDoneUndeputy',
  remove: 'console:groupDoneRemove',
  rotate: 'console:groupDoneRotate',
  notice: 'console:groupDoneNotice',
};
const ALERT_DONE_KEYS: Record<'reping' | 'update' | 'cancel', string> = {
  reping: 'console:alertDoneReping',
  update: 'console:alertDoneUpdate',
  cancel: 'console:alertDoneCancel',
};
const ASSETS_DIR = path.join(PROJECT_ROOT, 'src', 'console', 'assets');
const ASSET_TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const ACTIONS: readonly ConsoleAction[] = ['acknowledge', 'ask', 'note', 'resolve', 'duplicate', 'escalate', 'reopen'];
/** The policy's action names, as handlerActions returns them. */
const POLICY_ACTIONS: Record<string, ConsoleAction> = {
  'case.acknowledge': 'acknowledge',
  'case.ask': 'ask',
  'case.note': 'note',
  'case.resolve': 'resolve',
  'case.duplicate': 'duplicate',
  'case.escalate': 'escalate',
  'case.reopen': 'reopen',
};

export interface ConsoleDeps {
  db: Db;
  services: Services;
  translator: Translator;
  clock: Clock;
  logger: Logger;
  defaultLocale: Locale;
  /** PUBLIC_URL: links use it, and an https address makes the cookie Secure. */
  publicUrl?: string;
  /** CONSOLE_TILE_URL: the map's tiles ({z}/{x}/{y}); unset: pins on a blank map. */
  tileUrl?: string;
  /** Only used for links when PUBLIC_URL is unset (http://localhost:<port>). */
  port(): number;
  /** The sign-in links and sessions (console-lazy.ts makes it before the pages are loaded). */
  auth?: ConsoleAuth;
}

type Env = { Variables: { session: ConsoleSessionInfo; locale: Locale; t: T } };
export type ConsoleEnv = Env;

export function createConsole(deps: ConsoleDeps) {
  const { services, translator, clock, logger } = deps;
  const auth: ConsoleAuth = deps.auth ?? createConsoleAuth({ db: deps.db, clock });
  const queries = createConsoleQueries({ db: deps.db, clock });
  const secure = deps.publicUrl?.startsWith('https://') ?? false;
  const assets = new Map<string, { body: string; type: string }>();
  for (const name of ['console.css', 'console.js', 'dashboard.js', 'map.js', 'alert-live.js']) {
    assets.set(name, { body: readFileSync(path.join(ASSETS_DIR, name), 'utf8'), type: ASSET_TYPES[path.extname(name)]! });
  }
  // Chart.js and Leaflet from the installed packages: the console works offline, no CDN.
  const vendor = new Map<string, { body: string; type: string }>();
  for (const [name, file] of [
    ['chart.umd.min.js', 'node_modules/chart.js/dist/chart.umd.min.js'],
    ['leaflet.js', 'node_modules/leaflet/dist/leaflet.js'],
    ['leaflet.css', 'node_modules/leaflet/dist/leaflet.css'],
  ] as const) {
    // The source map comment would make browsers ask for a file that is not served.
    const body = readFileSync(path.join(PROJECT_ROOT, file), 'utf8').replace(/\n\/[/*]# sourceMappingURL=\S+(\s*\*\/)?\s*$/, '\n');
    vendor.set(name, { body, type: ASSET_TYPES[path.extname(name)]! });
  }
  const stats = createConsoleStats({ db: deps.db });
  /** The CSP of the map page: the global one, with the tile server's origin allowed for images. */
  const mapCsp = (() => {
    const origin = deps.tileUrl ? /^(https?:\/\/[^/]+)/.exec(deps.tileUrl)?.[1]?.replace(/\{s\}/g, '*') : undefined;
    const base = securityHeaders({ https: secure })['content-security-policy']!;
    return origin ? base.replace("img-src 'self'", `img-src 'self' ${origin}`) : base;
  })();

  const tFor = (locale: Locale): T => (key, params) => translator.t(locale, key, params);
  const anonymousFrame = (title: string): PageFrame => ({ t: tFor(deps.defaultLocale), locale: deps.defaultLocale, title });
  const frameOf = (c: Context<Env>, title: string): PageFrame => ({ t: c.get('t'), locale: c.get('locale'), title, csrf: c.get('session').csrfToken });

  /** The page everyone without a (live) session sees: how to get a new link. */
  const signedOut = (c: Context, expiredLink = false) => {
    const t = tFor(deps.defaultLocale);
    return c.html(
      messagePage(anonymousFrame(t('console:signInTitle')), t(expiredLink ? 'console:linkExpiredTitle' : 'console:signInTitle'), t('console:howToSignIn')),
      expiredLink ? 410 : 401,
    );
  };

  const app = new Hono<Env>();
  // Server time of every console answer (the benchmark reads it; browsers show it in their tools).
  app.use('/console/*', async (c, next) => {
    const started = performance.now();
    await next();
    c.res.headers.set('Server-Timing', `app;dur=${(performance.now() - started).toFixed(1)}`);
  });
  app.use('/console/*', bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text('too large', 413) }));

  app.get('/console/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (!asset) return c.notFound();
    c.header('Cache-Control', 'no-cache');
    return c.body(asset.body, 200, { 'Content-Type': asset.type });
  });
  app.get('/console/assets/vendor/:name', (c) => {
    const asset = vendor.get(c.req.param('name'));
    if (!asset) return c.notFound();
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(asset.body, 200, { 'Content-Type': asset.type });
  });

  /**
   * Opening the link only shows a "sign in" button: messengers and mail scanners fetch links to
   * build previews, and a GET that consumed the one-time token would spend it before the person
   * clicks. The POST (from this page: same-site, so the Strict cookie follows the redirect)
   * consumes it.
   */
  app.get('/console/login', async (c) => {
    const token = c.req.query('t') ?? '';
    const personId = await auth.peekLoginToken(token);
    if (!personId) return signedOut(c, true);
    const locale = await localeOf(personId);
    const t = tFor(locale);
    c.header('Cache-Control', 'no-store');
    return c.html(signInPage({ t, locale, title: t('console:signInButton') }, token));
  });

  app.post('/console/login', async (c) => {
    // Login CSRF: a sign-in form posted from another site is refused.
    const origin = c.req.header('origin');
    if (origin && origin !== 'null' && new URL(origin).host !== c.req.header('host')) return signedOut(c, true);
    const form = await c.req.parseBody();
    const opened = await auth.consumeLoginToken(typeof form.t === 'string' ? form.t : '', c.req.header('user-agent'));
    if (!opened) return signedOut(c, true);
    setCookie(c, COOKIE, opened.cookie, { path: '/console', httpOnly: true, sameSite: 'Strict', secure, maxAge: Math.floor(SESSION_TTL_MS / 1000) });
    c.header('Cache-Control', 'no-store');
    return c.redirect('/console/cases', 303);
  });

  // Everything below needs a live session.
  app.use('/console/*', async (c, next) => {
    const session = await auth.sessionFor(getCookie(c, COOKIE));
    if (!session) {
      if (getCookie(c, COOKIE)) deleteCookie(c, COOKIE, { path: '/console', secure });
      return signedOut(c);
    }
    const locale = await localeOf(session.personId);
    c.set('session', session);
    c.set('locale', locale);
    c.set('t', tFor(locale));
    c.header('Cache-Control', 'no-store');
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody({ all: true });
      if (!auth.csrfMatches(session, form.csrf)) {
        const t = c.get('t');
        return c.html(messagePage(frameOf(c, t('console:csrfTitle')), t('console:csrfTitle'), t('console:csrfText')), 403);
      }
    }
    await next();
  });
  app.get('/console', (c) => c.redirect('/console/cases', 303));

  /** The person's scope, or the "not (any more) a handler" page. */
  async function scopeOr403(c: Context<Env>) {
    const scope = await services.cases.handlerScope(c.get('session').personId);
    if (scope) return { scope };
    const t = c.get('t');
    return { page: c.html(messagePage(frameOf(c, t('console:notAllowedTitle')), t('console:notAllowedTitle'), t('console:notAllowed')), 403) };
  }

  app.get('/console/cases', async (c) => {
    const got = await scopeOr403(c);
    // A mediator who handles no cases lands on the mediation team's requests.
    if (!got.scope && (await services.mediation.isTeamAnywhere(c.get('session').personId))) return c.redirect('/console/mediation', 303);
    if (!got.scope) return got.page;
    const filter = parseFilter(c.req.query());
    const [queue, groups] = await Promise.all([queries.queue(got.scope, filter, c.get('session').personId), queries.groupsInScope(got.scope)]);
    const params = new URLSearchParams(c.req.query());
    params.delete('page');
    const t = c.get('t');
    return c.html(queuePage(frameOf(c, t('console:queueTitle')), { filter, ...queue, groups, now: clock.now(), queryWithoutPage: params.toString() }));
  });

  async function renderCase(c: Context<Env>, caseId: string, extra: { notice?: { kind: 'ok' | 'error'; text: string }; fieldError?: { action: ConsoleAction; text: string; value: string } } = {}, status: 200 | 403 | 404 | 409 | 422 = 200) {
    const t = c.get('t');
    const me = c.get('session').personId;
    let view;
    try {
      view = await services.cases.handlerView(me, caseId, t, c.get('locale')); // authorizes 'case.handle'
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const notFound = error.code === 'cases:notFound';
      return c.html(messagePage(frameOf(c, t('console:caseUnavailable')), t('console:caseUnavailable'), t(notFound ? 'console:caseNotFound' : 'console:caseForbidden')), notFound ? 404 : 403);
    }
    const full = await queries.caseWithContext(caseId);
    if (!full) return c.notFound();
    const [messages, events, allowed, levelText] = await Promise.all([
      queries.thread(caseId),
      queries.events(caseId),
      services.cases.handlerActions(me, view.case),
      services.cases.levelText(full, t),
    ]);
    const link = async (id: string | null) => (id ? await services.media.signedPath(id) : undefined);
    const reporter = services.cases.reporterLabel(full, t);
    const thread = await Promise.all(
      messages.map(async (m) => ({
        who: m.fromReporter ? reporter : m.internal ? t('cases:internalNoteMark') : t('cases:handlerMark'),
        internal: m.internal,
        fromReporter: m.fromReporter,
        text: m.text,
        createdAt: m.createdAt,
        photo: await link(m.photoMediaId),
      })),
    );
    return c.html(
      casePage(frameOf(c, full.ref), {
        id: full.id,
        ref: full.ref,
        category: full.category,
        status: full.status,
        urgent: full.urgent,
        overdue: Boolean(full.overdueAt),
        levelText,
        reporter,
        group: full.group?.name ?? '',
        area: full.area.name,
        createdAt: full.createdAt,
        escalateAt: full.escalateAt,
        description: full.description,
        pin: full.latitude !== null && full.longitude !== null ? { lat: full.latitude, lon: full.longitude } : undefined,
        placeText: full.placeText,
        photo: await link(full.photoMediaId),
        thread,
        events,
        actions: allowed.map((a) => POLICY_ACTIONS[a]).filter((a): a is ConsoleAction => Boolean(a)),
        now: clock.now(),
        maxText: MAX_DESCRIPTION,
        ...extra,
      }),
      status,
    );
  }

  app.get('/console/cases/:id', async (c) => {
    const done = c.req.query('done') as ConsoleAction | undefined;
    const t = c.get('t');
    return renderCase(c, c.req.param('id'), done && ACTIONS.includes(done) ? { notice: { kind: 'ok', text: t(DONE_KEYS[done]) } } : {});
  });

  app.post('/console/cases/:id/act', async (c) => {
    const t = c.get('t');
    const me = c.get('session').personId;
    const caseId = c.req.param('id');
    const form = await c.req.parseBody({ all: true });
    const action = String(form.action ?? '') as ConsoleAction;
    if (!ACTIONS.includes(action)) return renderCase(c, caseId, { notice: { kind: 'error', text: t('console:unknownAction') } }, 422);
    const raw = typeof form.text === 'string' ? form.text : '';
    const text = raw.replace(/\r\n/g, '\n').trim();
    if (TEXT_ACTIONS.has(action)) {
      // Refused beside the field; nothing is saved.
      if (!text) return renderCase(c, caseId, { fieldError: { action, text: t('console:errorEmpty'), value: raw } }, 422);
      if (text.length > MAX_DESCRIPTION) return renderCase(c, caseId, { fieldError: { action, text: t('console:errorTooLong', { max: MAX_DESCRIPTION }), value: raw.slice(0, MAX_DESCRIPTION + 100) } }, 422);
    }
    const cases = services.cases;
    try {
      switch (action) {
        case 'acknowledge':
          await cases.acknowledge(me, caseId);
          break;
        case 'ask':
          await cases.ask(me, caseId, text);
          break;
        case 'note':
          await cases.note(me, caseId, text);
          break;
        case 'resolve':
          await cases.resolve(me, caseId, text);
          break;
        case 'duplicate':
          await cases.markDuplicate(me, caseId, text);
          break;
        case 'escalate':
          await cases.escalate(me, caseId);
          break;
        case 'reopen':
          await cases.reopen(me, caseId);
          break;
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const message = t(error.code, error.params);
      if (TEXT_ACTIONS.has(action)) return renderCase(c, caseId, { fieldError: { action, text: message, value: raw } }, 409);
      return renderCase(c, caseId, { notice: { kind: 'error', text: message } }, 409);
    }
    await auth.audit(me, `console.case.${action}`, `case:${caseId}`, {});
    return c.redirect(`/console/cases/${encodeURIComponent(caseId)}?done=${action}`, 303);
  });

  /** The dashboard's and the report's selection: period, area, group (within the scope). */
  function selection(c: Context<Env>) {
    const q = c.req.query();
    const period = parsePeriod(q, clock.now());
    const id = (v: string | undefined) => (v && /^[A-Za-z0-9_-]{1,40}$/.test(v) ? v : undefined);
    const filter = { areaId: id(q.area), groupId: id(q.group) };
    const params = new URLSearchParams({ period: period.kind, index: String(period.index), year: String(period.year) });
    if (filter.areaId) params.set('area', filter.areaId);
    if (filter.groupId) params.set('group', filter.groupId);
    return { period, filter, query: params.toString() };
  }

  app.get('/console/dashboard', async (c) => {
    const got = await scopeOr403(c);
    if (!got.scope) return got.page;
    const { period, filter, query } = selection(c);
    const [d, areas, groups] = await Promise.all([stats.dashboard(got.scope, period, filter), stats.areasInScope(got.scope), queries.groupsInScope(got.scope)]);
    const t = c.get('t');
    return c.html(dashboardPage(frameOf(c, t('console:navDashboard')), { d, period, areas, groups, areaId: filter.areaId, groupId: filter.groupId, query }));
  });

  const report = (format: 'xlsx' | 'csv') => async (c: Context<Env>) => {
    const got = await scopeOr403(c);
    if (!got.scope) return got.page;
    const { period, filter } = selection(c);
    const t = c.get('t');
    const me = c.get('session').personId;
    const rows = await stats.reportRows(got.scope, period, filter);
    const name = `bao-cao-phan-anh-${period.year}-${period.kind}-${period.index}.${format}`;
    await auth.audit(me, 'console.report.export', `report:${period.kind}:${period.year}:${period.index}`, { format, area: filter.areaId ?? null, group: filter.groupId ?? null, rows: rows.length });
    c.header('Content-Disposition', `attachment; filename="${name}"`);
    if (format === 'csv') return c.body(buildCsv(t, rows), 200, { 'Content-Type': 'text/csv; charset=utf-8' });
    const [d, areas, groups] = await Promise.all([stats.dashboard(got.scope, period, filter), stats.areasInScope(got.scope), queries.groupsInScope(got.scope)]);
    const scopeName = filter.groupId ? (groups.find((g) => g.id === filter.groupId)?.name ?? '') : filter.areaId ? (areas.find((a) => a.id === filter.areaId)?.name ?? '') : t('console:xScopeAll');
    const body = await buildWorkbook(t, scopeName, period, rows, d);
    return c.body(new Uint8Array(body), 200, { 'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
  };
  app.get('/console/report.xlsx', report('xlsx'));
  app.get('/console/report.csv', report('csv'));

  app.get('/console/map', async (c) => {
    const got = await scopeOr403(c);
    if (!got.scope) return got.page;
    const pins = await queries.pins(got.scope, c.req.query('status') === 'all');
    const t = c.get('t');
    c.header('Content-Security-Policy', mapCsp);
    return c.html(mapPage(frameOf(c, t('console:mapTitle')), pins, deps.tileUrl));
  });

  // --- Alerts: the sender's history and live pages (the alert service checks it is the sender's).

  app.get('/console/alerts', async (c) => {
    const me = c.get('session').personId;
    const actor = await services.actors.actor(me);
    const alerts = await deps.db.alert.findMany({
      where: { kind: 'alert', ...(actor.admin ? {} : { senderId: me }) },
      orderBy: { createdAt: 'desc' },
      take: 100,
      select: { id: true, headline: true, category: true, status: true, exercise: true, createdAt: true, expiresAt: true },
    });
    const t = c.get('t');
    return c.html(alertsPage(frameOf(c, t('console:alertsTitle')), alerts, clock.now()));
  });

  // Compose: the same limits as the chat's /alert, the alert service's preview and send (idempotent by draft key).
  const EXPIRIES: Array<[string, string, number]> = [
    ['1h', 'alerts:expiry1h', 3_600_000],
    ['6h', 'alerts:expiry6h', 6 * 3_600_000],
    ['24h', 'alerts:expiry24h', 24 * 3_600_000],
    ['3d', 'alerts:expiry3d', 72 * 3_600_000],
  ];
  async function renderCompose(c: Context<Env>, values: ComposeValues, errors: Partial<Record<keyof ComposeValues, string>> = {}, preview?: { text: string; buttons: string[]; audience: number; draftKey: string }, status: 200 | 409 | 422 = 200) {
    const t = c.get('t');
    const groups = await services.alerts.sendableGroups(c.get('session').personId);
    if (!groups.length) return c.html(messagePage(frameOf(c, t('console:composeTitle')), t('console:composeTitle'), t('alerts:notAllowed')), 403);
    return c.html(
      composePage(frameOf(c, t('console:composeTitle')), {
        groups,
        values,
        errors,
        preview,
        categories: ALERT_CATEGORIES.map((v) => ({ value: v, label: t(ALERT_CATEGORY_KEYS[v]) })),
        severities: SEVERITIES.map((v) => ({ value: v, label: t(SEVERITY_KEYS[v]) })),
        expiries: EXPIRIES.map(([value, key]) => ({ value, label: t(key) })),
        limits: { headline: MAX_HEADLINE, text: MAX_ALERT_TEXT, instruction: MAX_INSTRUCTION },
      }),
      status,
    );
  }
  const emptyCompose = (groupIds: string[]): ComposeValues => ({ groupIds, category: '', severity: '', headline: '', text: '', instruction: '', expiry: '6h', exercise: false });

  app.get('/console/alerts/new', async (c) => {
    const groups = await services.alerts.sendableGroups(c.get('session').personId);
    return renderCompose(c, emptyCompose(groups.length === 1 ? [groups[0]!.id] : []));
  });

  app.post('/console/alerts/new', async (c) => {
    const t = c.get('t');
    const me = c.get('session').personId;
    const form = await c.req.parseBody({ all: true });
    const one = (name: string) => {
      const v = form[name];
      return typeof v === 'string' ? v : '';
    };
    const many = (name: string) => {
      const v = form[name];
      return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
    };
    const clean = (s: string) => s.replace(/\r\n/g, '\n').trim();
    const values: ComposeValues = {
      groupIds: [...new Set(many('group'))],
      category: one('category'),
      severity: one('severity'),
      headline: clean(one('headline')),
      text: clean(one('text')),
      instruction: clean(one('instruction')),
      expiry: one('expiry'),
      exercise: one('exercise') === '1',
    };
    const errors: Partial<Record<keyof ComposeValues, string>> = {};
    const sendable = new Set((await services.alerts.sendableGroups(me)).map((g) => g.id));
    if (!values.groupIds.length || values.groupIds.some((g) => !sendable.has(g))) errors.groupIds = t('alerts:noTargets');
    if (!isAlertCategory(values.category)) errors.category = t('console:errorChoose');
    if (!isSeverity(values.severity)) errors.severity = t('console:errorChoose');
    if (!values.headline) errors.headline = t('console:errorEmpty');
    else if (values.headline.length > MAX_HEADLINE) errors.headline = t('console:errorTooLong', { max: MAX_HEADLINE });
    if (!values.text) errors.text = t('console:errorEmpty');
    else if (values.text.length > MAX_ALERT_TEXT) errors.text = t('console:errorTooLong', { max: MAX_ALERT_TEXT });
    if (values.instruction.length > MAX_INSTRUCTION) errors.instruction = t('console:errorTooLong', { max: MAX_INSTRUCTION });
    const expiry = EXPIRIES.find(([v]) => v === values.expiry);
    if (!expiry) errors.expiry = t('console:errorChoose');
    if (Object.keys(errors).length) return renderCompose(c, values, errors, undefined, 422);
    const draft = {
      groupIds: values.groupIds,
      category: values.category as (typeof ALERT_CATEGORIES)[number],
      severity: values.severity as (typeof SEVERITIES)[number],
      headline: values.headline,
      text: values.text,
      instruction: values.instruction || undefined,
      expiresInMs: expiry![2],
      exercise: values.exercise,
    };
    try {
      if (one('step') === 'send') {
        const draftKey = /^[a-f0-9]{32}$/.test(one('draftKey')) ? one('draftKey') : randomBytes(16).toString('hex');
        const { alert, already } = await services.alerts.send(me, draft, `console:${draftKey}`);
        if (!already) await auth.audit(me, 'console.alert.send', `alert:${alert.id}`, { groups: values.groupIds.length });
        return c.redirect(`/console/alerts/${encodeURIComponent(alert.id)}`, 303);
      }
      const preview = await services.alerts.preview(draft, t, c.get('locale'), me);
      const audience = await services.alerts.audienceSize(values.groupIds);
      return renderCompose(c, values, {}, { text: preview.text, buttons: (preview.choices ?? []).flat().map((b) => b.label), audience, draftKey: randomBytes(16).toString('hex') });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return renderCompose(c, values, { groupIds: t(error.code, error.params) }, undefined, 409);
    }
  });

  /** The alert if this person sent it (or is an admin); otherwise the refusal page. */
  async function senderAlert(c: Context<Env>, alertId: string) {
    const t = c.get('t');
    try {
      await services.alerts.statusView(c.get('session').personId, alertId, t);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return { page: c.html(messagePage(frameOf(c, t('console:alertsTitle')), t('console:alertsTitle'), t(error.code, error.params)), error.code === 'alerts:notFound' ? 404 : 403) };
    }
    return { alert: await deps.db.alert.findUniqueOrThrow({ where: { id: alertId } }) };
  }

  async function alertCounts(alertId: string): Promise<AlertCountsView> {
    const [counts, rows] = await Promise.all([
      services.alerts.counts(alertId),
      deps.db.delivery.groupBy({ by: ['channel', 'status', 'answer'], where: { alertId, kind: 'alert' }, _count: { _all: true } }),
    ]);
    const channels = new Map<string, AlertCountsView['channels'][number]>();
    for (const r of rows) {
      const ch = channels.get(r.channel) ?? { channel: r.channel, sent: 0, failed: 0, queued: 0, answered: 0 };
      const n = r._count._all;
      if (r.status === 'sent') ch.sent += n;
      else if (r.status === 'queued' || r.status === 'sending') ch.queued += n;
      else if (r.status === 'failed') ch.failed += n;
      if (r.answer) ch.answered += n;
      channels.set(r.channel, ch);
    }
    return { ...counts, channels: [...channels.values()].sort((a, b) => a.channel.localeCompare(b.channel)) };
  }

  async function renderAlert(c: Context<Env>, alertId: string, extra: { notice?: { kind: 'ok' | 'error'; text: string }; fieldError?: { action: 'update' | 'cancel'; text: string; value: string } } = {}, status: 200 | 409 | 422 = 200) {
    const got = await senderAlert(c, alertId);
    if (!got.alert) return got.page;
    const a = got.alert;
    const now = clock.now();
    return c.html(
      alertPage(frameOf(c, a.headline), { alert: a, counts: await alertCounts(a.id), active: a.status !== 'cancelled' && a.expiresAt > now, now, maxText: MAX_ALERT_TEXT, ...extra }),
      status,
    );
  }

  app.get('/console/alerts/:id', async (c) => {
    const t = c.get('t');
    const done = c.req.query('done');
    const notice = done === 'reping' || done === 'update' || done === 'cancel' ? { kind: 'ok' as const, text: t(ALERT_DONE_KEYS[done]) } : undefined;
    return renderAlert(c, c.req.param('id'), { notice });
  });

  app.get('/console/alerts/:id/counts', async (c) => {
    const got = await senderAlert(c, c.req.param('id'));
    if (!got.alert) return got.page;
    return c.html(countsBlock(c.get('t'), await alertCounts(got.alert.id)));
  });

  app.post('/console/alerts/:id/act', async (c) => {
    const t = c.get('t');
    const me = c.get('session').personId;
    const alertId = c.req.param('id');
    const form = await c.req.parseBody({ all: true });
    const action = String(form.action ?? '');
    const raw = typeof form.text === 'string' ? form.text : '';
    const text = raw.replace(/\r\n/g, '\n').trim();
    if (action !== 'reping' && action !== 'update' && action !== 'cancel') return renderAlert(c, alertId, { notice: { kind: 'error', text: t('console:unknownAction') } }, 422);
    if (action !== 'reping') {
      if (!text) return renderAlert(c, alertId, { fieldError: { action, text: t('console:errorEmpty'), value: raw } }, 422);
      if (text.length > MAX_ALERT_TEXT) return renderAlert(c, alertId, { fieldError: { action, text: t('console:errorTooLong', { max: MAX_ALERT_TEXT }), value: raw.slice(0, MAX_ALERT_TEXT + 100) } }, 422);
    }
    try {
      if (action === 'reping') await services.alerts.scheduleReping(me, alertId, 0);
      else await services.alerts.follow(me, alertId, action, { text });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return renderAlert(c, alertId, { notice: { kind: 'error', text: t(error.code, error.params) } }, 409);
    }
    await auth.audit(me, `console.alert.${action}`, `alert:${alertId}`, {});
    return c.redirect(`/console/alerts/${encodeURIComponent(alertId)}?done=${action}`, 303);
  });

  // --- Groups: every rule (who manages, who appoints deputies, what a leader sees of members) is the group service's.

  app.get('/console/groups', async (c) => {
    const got = await scopeOr403(c);
    if (!got.scope) return got.page;
    const me = c.get('session').personId;
    const candidates = await queries.groupsInScope(got.scope);
    const groups = [];
    for (const g of candidates.slice(0, 200)) if (await services.groups.canManage(me, g.id)) groups.push(g);
    const t = c.get('t');
    return c.html(groupsPage(frameOf(c, t('console:groupsTitle')), groups));
  });

  async function renderGroup(c: Context<Env>, groupId: string, extra: { notice?: { kind: 'ok' | 'error'; text: string }; noticeError?: { text: string; value: string } } = {}, status: 200 | 409 | 422 = 200) {
    const t = c.get('t');
    const me = c.get('session').personId;
    const group = await deps.db.group.findUnique({ where: { id: groupId }, include: { area: { select: { name: true } } } });
    if (!group || !(await services.groups.canManage(me, groupId))) {
      return c.html(messagePage(frameOf(c, t('console:groupsTitle')), t('console:groupsTitle'), t('console:groupForbidden')), group ? 403 : 404);
    }
    const [stats, pending, members, inviteCode, canAppointDeputy] = await Promise.all([
      services.groups.stats(me, groupId),
      services.groups.members(me, groupId, t, 'pending'),
      services.groups.members(me, groupId, t, 'active'),
      services.groups.inviteCode(me, groupId),
      services.groups.canAppointDeputy(me, groupId),
    ]);
    return c.html(
      groupPage(frameOf(c, group.name), {
        group: { id: group.id, name: group.name, areaName: group.area.name, joinPolicy: group.joinPolicy },
        stats,
        pending,
        members,
        inviteCode,
        canAppointDeputy,
        maxNotice: MAX_NOTICE,
        ...extra,
      }),
      status,
    );
  }

  app.get('/console/groups/:id', async (c) => {
    const done = c.req.query('done') ?? '';
    const key = GROUP_DONE_KEYS[done];
    return renderGroup(c, c.req.param('id'), key ? { notice: { kind: 'ok', text: c.get('t')(key) } } : {});
  });

  app.post('/console/groups/:id/act', async (c) => {
    const t = c.get('t');
    const me = c.get('session').personId;
    const groupId = c.req.param('id');
    const form = await c.req.parseBody({ all: true });
    const action = String(form.action ?? '');
    const membershipId = typeof form.membership === 'string' ? form.membership : '';
    const raw = typeof form.text === 'string' ? form.text : '';
    const text = raw.replace(/\r\n/g, '\n').trim();
    if (!GROUP_DONE_KEYS[action]) return renderGroup(c, groupId, { notice: { kind: 'error', text: t('console:unknownAction') } }, 422);
    if (action === 'notice') {
      if (!text) return renderGroup(c, groupId, { noticeError: { text: t('console:errorEmpty'), value: raw } }, 422);
      if (text.length > MAX_NOTICE) return renderGroup(c, groupId, { noticeError: { text: t('console:errorTooLong', { max: MAX_NOTICE }), value: raw.slice(0, MAX_NOTICE + 100) } }, 422);
    }
    const groups = services.groups;
    try {
      // A membership must belong to this group: the service checks the right to manage ITS group.
      if (membershipId) {
        const m = await deps.db.membership.findUnique({ where: { id: membershipId }, select: { groupId: true } });
        if (!m || m.groupId !== groupId) throw new DomainError('console:unknownAction');
      }
      switch (action) {
        case 'approve':
        case 'refuse':
          await groups.decide(me, membershipId, action === 'approve');
          break;
        case 'deputy':
        case 'undeputy':
          await groups.setDeputy(me, membershipId, action === 'deputy');
          break;
        case 'remove':
          await groups.remove(me, membershipId);
          break;
        case 'rotate':
          await groups.rotateInviteCode(me, groupId);
          break;
        case 'notice':
          await groups.postNotice(me, groupId, text);
          break;
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return renderGroup(c, groupId, { notice: { kind: 'error', text: t(error.code, error.params) } }, 409);
    }
    await auth.audit(me, `console.group.${action}`, `group:${groupId}`, membershipId ? { membership: membershipId } : {});
    return c.redirect(`/console/groups/${encodeURIComponent(groupId)}?done=${action}`, 303);
  });

  // Consultations, mediation and listening forums (issue 13): console-participation.ts.
  registerParticipationRoutes(app, { services, auth, clock, frameOf });

  app.get('/console/devices', async (c) => {
    const session = c.get('session');
    const t = c.get('t');
    const notice = c.req.query('done') === 'signout' ? t('console:deviceSignedOut') : undefined;
    return c.html(devicesPage(frameOf(c, t('console:devicesTitle')), await auth.devices(session.personId), session.id, notice));
  });

  app.post('/console/devices/:id/signout', async (c) => {
    const session = c.get('session');
    const id = c.req.param('id');
    await auth.signOut(session.personId, id);
    if (id === session.id) {
      deleteCookie(c, COOKIE, { path: '/console', secure });
      return signedOut(c);
    }
    return c.redirect('/console/devices?done=signout', 303);
  });

  app.post('/console/signout', async (c) => {
    const session = c.get('session');
    await auth.signOut(session.personId, session.id);
    deleteCookie(c, COOKIE, { path: '/console', secure });
    const t = tFor(c.get('locale'));
    return c.html(messagePage({ t, locale: c.get('locale'), title: t('console:signedOutTitle') }, t('console:signedOutTitle'), t('console:howToSignIn')));
  });

  app.notFound((c) => {
    const t = tFor(deps.defaultLocale);
    return c.html(messagePage(anonymousFrame(t('console:notFoundTitle')), t('console:notFoundTitle'), t('console:notFoundText')), 404);
  });
  app.onError((error, c) => {
    logger.error('console request failed', { path: c.req.path, error });
    const t = tFor(deps.defaultLocale);
    return c.html(messagePage(anonymousFrame(t('console:errorTitle')), t('console:errorTitle'), t('console:errorText')), 500);
  });

  async function localeOf(personId: string): Promise<Locale> {
    const person = await queries.personLocale(personId);
    return asLocale(person?.locale, deps.defaultLocale);
  }

  const listener = getRequestListener(app.fetch);
  return {
    app,
    auth,
    /** The HTTP server's route: true when the request was the console's. */
    async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
      if (url.pathname !== '/console' && !url.pathname.startsWith('/console/')) return false;
      await listener(req, res);
      return true;
    },
    /** The one-time sign-in link for a person (the /console command). */
    async issueLink(personId: string): Promise<string> {
      const token = await auth.issueLoginToken(personId);
      const base = (deps.publicUrl ?? `http://localhost:${deps.port()}`).replace(/\/+$/, '');
      return `${base}/console/login?t=${token}`;
    },
  };
}

export type ConsoleWeb = ReturnType<typeof createConsole>;
