/**
 * The console's routes for consultations, mediation and listening forums (issue 13). As for
 * cases, every decision is the services' (and so src/core/authz/policy.ts's): these routes
 * read forms, call the poll, mediation and forum services, audit what was done, and render.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { Services } from '../core/services/services.js';
import type { Clock } from '../core/ports/clock.js';
import { DomainError } from '../core/errors.js';
import { MAX_OPTIONS, MAX_QUESTION, MIN_OPTIONS, optionsProblem, parseClosingTime, splitOptions, isPollKind, type PollDraft } from '../core/services/poll.service.js';
import { MAX_AGREEMENT, MAX_SESSION } from '../core/services/mediation.service.js';
import { MAX_FORUM_ANSWER, MAX_SUMMARY } from '../core/services/forum.service.js';
import type { ConsoleAuth } from './console-auth.js';
import { messagePage, type PageFrame, type T } from './pages.js';
import { forumPage, forumsPage, mediationPage, mediationsPage, pollComposePage, pollPage, pollsPage, type ForumPageData, type MediationPageData, type PollComposeValues } from './pages-participation.js';
import type { ConsoleEnv } from './console-app.js';

/** The bot's refer step takes at most this much text. */
const MAX_REFER_REASON = 500;
const VN_OFFSET_MS = 7 * 3_600_000;
const DONE_KEYS: Record<string, string> = {
  accept: 'console:mediationDoneAccept',
  refer: 'console:mediationDoneRefer',
  propose: 'console:mediationDonePropose',
  conclude: 'console:mediationDoneConclude',
  answer: 'console:forumDoneAnswer',
  close: 'console:forumDoneClose',
  created: 'console:pollDoneCreated',
};

export interface ParticipationDeps {
  services: Services;
  auth: ConsoleAuth;
  clock: Clock;
  frameOf(c: Context<ConsoleEnv>, title: string): PageFrame;
}

type C = Context<ConsoleEnv>;

/** A form value as a string ('' when missing), and all values of a repeated field. */
function formReader(form: Record<string, unknown>) {
  const one = (name: string) => {
    const v = form[name];
    return typeof v === 'string' ? v : '';
  };
  const many = (name: string) => {
    const v = form[name];
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
  };
  return { one, many };
}
const clean = (s: string) => s.replace(/\r\n/g, '\n').trim();

/** A datetime-local value ("2026-12-31T18:00", Vietnam time) or a typed "31/12/2026 18:00", as the bot reads it. */
function closingFrom(raw: string, now: Date): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(raw.trim());
  return parseClosingTime(m ? `${m[3]}/${m[2]}/${m[1]} ${m[4]}:${m[5]}` : raw, now);
}
/** Three days from now, on the hour, as a datetime-local value in Vietnam time. */
function defaultClosing(now: Date): string {
  const at = Math.ceil((now.getTime() + 3 * 86_400_000) / 3_600_000) * 3_600_000;
  return new Date(at + VN_OFFSET_MS).toISOString().slice(0, 16);
}

export function registerParticipationRoutes(app: Hono<ConsoleEnv>, deps: ParticipationDeps): void {
  const { services, auth, clock, frameOf } = deps;

  const page = (c: C, titleKey: string, textKey: string, status: 403 | 404, params?: Record<string, unknown>) => {
    const t = c.get('t');
    return c.html(messagePage(frameOf(c, t(titleKey)), t(titleKey), t(textKey, params)), status);
  };
  const notAllowed = (c: C) => page(c, 'console:notAllowedTitle', 'console:participationNotAllowed', 403);
  const doneNotice = (c: C) => {
    const key = DONE_KEYS[c.req.query('done') ?? ''];
    return key ? { kind: 'ok' as const, text: c.get('t')(key) } : undefined;
  };

  // --- Consultations: the poll service lists, shows results, validates and fans out (the outbox).

  app.get('/console/polls', async (c) => {
    const me = c.get('session').personId;
    if (!(await services.cases.handlerScope(me))) return notAllowed(c);
    const [rows, askable] = await Promise.all([services.polls.consoleList(me), services.polls.askableGroups(me)]);
    const t = c.get('t');
    return c.html(
      pollsPage(
        frameOf(c, t('console:pollsTitle')),
        rows.map((r) => ({ id: r.poll.id, question: r.poll.question, open: r.open, groups: r.groups, answers: r.answers, closesAt: r.poll.closedAt ?? r.poll.closesAt })),
        askable.length > 0,
      ),
    );
  });

  async function renderCompose(c: C, values: PollComposeValues, errors: Partial<Record<keyof PollComposeValues, string>> = {}, extra: { preview?: { text: string; buttons: string[]; audience: number; draftKey: string }; notice?: { kind: 'ok' | 'error'; text: string } } = {}, status: 200 | 409 | 422 = 200) {
    const t = c.get('t');
    const groups = await services.polls.askableGroups(c.get('session').personId);
    if (!groups.length) return page(c, 'console:pollNewTitle', 'polls:notAllowed', 403);
    return c.html(pollComposePage(frameOf(c, t('console:pollNewTitle')), { groups, values, errors, limits: { question: MAX_QUESTION, minOptions: MIN_OPTIONS, maxOptions: MAX_OPTIONS }, ...extra }), status);
  }

  app.get('/console/polls/new', async (c) => {
    const groups = await services.polls.askableGroups(c.get('session').personId);
    return renderCompose(c, { groupIds: groups.length === 1 ? [groups[0]!.id] : [], kind: 'single', question: '', options: '', closes: defaultClosing(clock.now()), anonymous: true });
  });

  app.post('/console/polls/new', async (c) => {
    const t = c.get('t');
    const me = c.get('session').personId;
    const { one, many } = formReader(await c.req.parseBody({ all: true }));
    const values: PollComposeValues = {
      groupIds: [...new Set(many('group'))],
      kind: one('kind'),
      question: clean(one('question')),
      options: clean(one('options')),
      closes: one('closes').trim(),
      anonymous: one('anonymous') === '1',
    };
    // The same checks as the bot's /poll, field by field (the service checks everything again on create).
    const errors: Partial<Record<keyof PollComposeValues, string>> = {};
    const askable = new Set((await services.polls.askableGroups(me)).map((g) => g.id));
    if (!values.groupIds.length) errors.groupIds = t('polls:noGroups');
    else if (values.groupIds.some((g) => !askable.has(g))) errors.groupIds = t('console:pollGroupNotYours');
    if (!isPollKind(values.kind)) errors.kind = t('console:errorChoose');
    if (!values.question) errors.question = t('console:errorEmpty');
    else if (values.question.length > MAX_QUESTION) errors.question = t('console:errorTooLong', { max: MAX_QUESTION });
    const options = values.kind === 'free' ? [] : splitOptions(values.options);
    if (values.kind !== 'free') {
      const problem = optionsProblem(options);
      if (problem) errors.options = t(problem.code, problem.params);
    }
    const closesAt = closingFrom(values.closes, clock.now());
    if (!closesAt) errors.closes = t('console:errorDate');
    else {
      try {
        services.polls.checkClosing(closesAt);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        errors.closes = t(error.code, error.params);
      }
    }
    if (Object.keys(errors).length) return renderCompose(c, values, errors, {}, 422);
    const draft: PollDraft = { groupIds: values.groupIds, kind: values.kind as PollDraft['kind'], question: values.question, options, closesAt: closesAt!, anonymous: values.anonymous };
    try {
      if (one('step') === 'send') {
        const key = /^[a-f0-9]{32}$/.test(one('draftKey')) ? one('draftKey') : randomBytes(16).toString('hex');
        const { poll, recipients, already } = await services.polls.create(me, { ...draft, draftKey: `console:${key}` });
        if (!already) await auth.audit(me, 'console.poll.create', `poll:${poll.id}`, { groups: values.groupIds.length, recipients });
        return c.redirect(`/console/polls/${encodeURIComponent(poll.id)}?done=created`, 303);
      }
      services.polls.validate(draft);
      const preview = await services.polls.preview(draft, t, c.get('locale'));
      const audience = await services.polls.audienceSize(values.groupIds);
      return renderCompose(c, values, {}, { preview: { text: preview.text, buttons: (preview.choices ?? []).flat().map((b) => b.label), audience, draftKey: randomBytes(16).toString('hex') } });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return renderCompose(c, values, {}, { notice: { kind: 'error', text: t(error.code, error.params) } }, 409);
    }
  });

  app.get('/console/polls/:id', async (c) => {
    const me = c.get('session').personId;
    const t = c.get('t');
    let view;
    try {
      view = await services.polls.consoleView(me, c.req.param('id'));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return page(c, 'console:pollsTitle', error.code, 404, error.params);
    }
    const p = view.poll;
    return c.html(
      pollPage(frameOf(c, p.question), {
        id: p.id,
        question: p.question,
        kind: p.kind,
        anonymous: p.anonymous,
        open: view.open,
        groups: view.groups,
        closesAt: p.closesAt,
        closedAt: p.closedAt,
        options: view.options,
        results: view.results,
        notice: doneNotice(c),
      }),
    );
  });

  // --- Mediation: the team's requests (the policy keeps parties out), and, for the police, the referred ones.

  app.get('/console/mediation', async (c) => {
    const me = c.get('session').personId;
    const [onTeam, scope] = await Promise.all([services.mediation.isTeamAnywhere(me), services.cases.handlerScope(me)]);
    const police = Boolean(scope && (scope.all || scope.areaIds.length));
    if (!onTeam && !police) return notAllowed(c);
    const [team, referred] = await Promise.all([onTeam ? services.mediation.teamList(me) : undefined, police ? services.mediation.referredList(me) : undefined]);
    const t = c.get('t');
    return c.html(mediationsPage(frameOf(c, t('console:mediationTitle')), team?.map((m) => ({ id: m.id, ref: m.ref, groupName: m.groupName, status: m.status, createdAt: m.createdAt })), referred));
  });

  async function renderMediation(c: C, id: string, extra: Pick<MediationPageData, 'notice' | 'fieldError'> = {}, status: 200 | 409 | 422 = 200) {
    let d;
    try {
      d = await services.mediation.teamDetail(c.get('session').personId, id);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return page(c, 'console:mediationTitle', 'mediation:notFound', 404);
    }
    const m = d.mediation;
    return c.html(
      mediationPage(frameOf(c, m.ref), {
        id: m.id,
        ref: m.ref,
        groupName: d.groupName,
        status: m.status,
        createdAt: m.createdAt,
        requesterName: d.requesterName,
        subject: m.subject,
        otherDescription: m.otherDescription,
        otherConsent: m.otherConsent,
        otherName: d.otherName,
        sessionAt: m.sessionAt,
        requesterAnswer: m.requesterAnswer,
        otherAnswer: m.otherAnswer,
        outcome: m.outcome,
        agreement: m.agreement,
        requesterHolds: m.requesterHolds,
        otherHolds: m.otherHolds,
        limits: { reason: MAX_REFER_REASON, session: MAX_SESSION, agreement: MAX_AGREEMENT },
        ...extra,
      }),
      status,
    );
  }

  app.get('/console/mediation/:id', (c) => renderMediation(c, c.req.param('id'), { notice: doneNotice(c) }));

  app.post('/console/mediation/:id/act', async (c) => {
    const t = c.get('t');
    const me = c.get('session').personId;
    const id = c.req.param('id');
    const { one } = formReader(await c.req.parseBody({ all: true }));
    const action = one('action');
    const raw = one('text');
    const text = clean(raw);
    if (!['accept', 'refer', 'propose', 'conclude'].includes(action)) return renderMediation(c, id, { notice: { kind: 'error', text: t('console:unknownAction') } }, 422);
    const max = action === 'refer' ? MAX_REFER_REASON : action === 'propose' ? MAX_SESSION : MAX_AGREEMENT;
    if ((action === 'refer' || action === 'propose') && !text) return renderMediation(c, id, { fieldError: { action, text: t('console:errorEmpty'), value: raw } }, 422);
    if (text.length > max) return renderMediation(c, id, { fieldError: { action, text: t('console:errorTooLong', { max }), value: raw.slice(0, max + 100) } }, 422);
    const outcome = one('outcome');
    if (action === 'conclude' && outcome !== 'agreed' && outcome !== 'not_agreed') return renderMediation(c, id, { fieldError: { action, text: t('console:errorChoose'), value: raw } }, 422);
    try {
      if (action === 'accept') await services.mediation.accept(me, id);
      else if (action === 'refer') await services.mediation.refer(me, id, text);
      else if (action === 'propose') await services.mediation.propose(me, id, text);
      else await services.mediation.conclude(me, id, outcome as 'agreed' | 'not_agreed', outcome === 'agreed' && text ? text : undefined);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'mediation:notFound') return page(c, 'console:mediationTitle', 'mediation:notFound', 404);
      return renderMediation(c, id, { notice: { kind: 'error', text: t(error.code, error.params) } }, 409);
    }
    await auth.audit(me, `console.mediation.${action}`, `mediation:${id}`, action === 'conclude' ? { outcome } : {});
    return c.redirect(`/console/mediation/${encodeURIComponent(id)}?done=${action}`, 303);
  });

  // --- Listening forums: opinions grouped by concern as the bot groups them; answers and the summary go out through the outbox.

  app.get('/console/forums', async (c) => {
    const me = c.get('session').personId;
    if (!(await services.cases.handlerScope(me))) return notAllowed(c);
    const forums = await services.forums.handledBy(me, 100);
    const counts = await services.forums.opinionCounts(forums.map((f) => f.id));
    const rows = forums.map((f) => ({ id: f.id, topic: f.topic, open: services.forums.isOpen(f), closesAt: f.closedAt ?? f.closesAt, opinions: counts.get(f.id) ?? 0 }));
    // Open topics first, each part newest first (as the service lists them).
    rows.sort((a, b) => Number(b.open) - Number(a.open));
    const t = c.get('t');
    return c.html(forumsPage(frameOf(c, t('console:forumsTitle')), rows));
  });

  async function renderForum(c: C, id: string, extra: Pick<ForumPageData, 'notice' | 'fieldError'> = {}, status: 200 | 409 | 422 = 200) {
    let d;
    try {
      d = await services.forums.handlerData(c.get('session').personId, id);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return page(c, 'console:forumsTitle', 'forums:notFound', 404);
    }
    const f = d.forum;
    return c.html(
      forumPage(frameOf(c, f.topic), {
        id: f.id,
        topic: f.topic,
        open: d.open,
        closed: Boolean(f.closedAt),
        closesAt: f.closesAt,
        closedAt: f.closedAt,
        summary: f.summary,
        groups: d.groups,
        count: d.count,
        concerns: d.concerns.map((g) => ({ label: g.label, opinions: g.opinions.map((o) => ({ n: o.n, text: o.text, signedBy: o.signedBy, answer: o.answer })) })),
        limits: { answer: MAX_FORUM_ANSWER, summary: MAX_SUMMARY },
        ...extra,
      }),
      status,
    );
  }

  app.get('/console/forums/:id', (c) => renderForum(c, c.req.param('id'), { notice: doneNotice(c) }));

  app.post('/console/forums/:id/act', async (c) => {
    const t: T = c.get('t');
    const me = c.get('session').personId;
    const id = c.req.param('id');
    const { one, many } = formReader(await c.req.parseBody({ all: true }));
    const action = one('action');
    const raw = one('text');
    const text = clean(raw);
    const numbers = [...new Set(many('n').map(Number).filter((n) => Number.isInteger(n) && n > 0))];
    if (action !== 'answer' && action !== 'close') return renderForum(c, id, { notice: { kind: 'error', text: t('console:unknownAction') } }, 422);
    const max = action === 'answer' ? MAX_FORUM_ANSWER : MAX_SUMMARY;
    const fieldError = (message: string) => renderForum(c, id, { fieldError: { action, text: message, value: raw.slice(0, max + 100), picked: numbers } }, 422);
    if (action === 'answer' && !numbers.length) return fieldError(t('console:forumPickSome'));
    if (!text) return fieldError(t('console:errorEmpty'));
    if (text.length > max) return fieldError(t('console:errorTooLong', { max }));
    let detail: Record<string, unknown> = {};
    try {
      if (action === 'answer') detail = { opinions: await services.forums.answer(me, id, numbers, text) };
      else await services.forums.close(me, id, text);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'forums:notFound') return page(c, 'console:forumsTitle', 'forums:notFound', 404);
      if (error.code === 'forums:pickNumbers') return fieldError(t('console:forumPickSome'));
      return renderForum(c, id, { notice: { kind: 'error', text: t(error.code, error.params) } }, 409);
    }
    await auth.audit(me, `console.forum.${action}`, `forum:${id}`, detail);
    return c.redirect(`/console/forums/${encodeURIComponent(id)}?done=${action}`, 303);
  });
}
