/**
 * Security alerts: confirmed alerts fan out as one delivery row per recipient account,
 * written in one batched transaction; answers are recorded on each recipient's row;
 * the sender follows live counts, re-pings, updates or cancels.
 */
import type { Outbound, Choice } from '../messages.js';
import type { Clock } from '../ports/clock.js';
import type { Translator } from '../ports/translator.js';
import { asLocale } from '../ports/translator.js';
import { can, OPEN_STATUSES } from '../authz/policy.js';
import { DomainError } from '../errors.js';
import { formatTime } from '../format.js';
import type { Db } from './db.js';
import { insertDeliveries, withHint, type Outbox } from './outbox.service.js';
import { alertAudience } from '../../persistence/alert-audience.js';
import { answerTarget, recordAnswer } from '../../persistence/alert-answers.js';
import type { ActorService } from './actor.service.js';
import type { CaseService } from './case.service.js';
import { ALERT_CATEGORY_KEYS, ANSWERS, HELP_CASE_CATEGORY, SEVERITY_LEVEL_KEYS, alertSenderOf, senderLine, type AlertCategory, type AlertSender, type AnswerCode, type Severity } from './alert.catalog.js';
import type { Alert } from '../../generated/prisma/client.js';

export interface AlertDraft {
  groupIds: string[];
  category: AlertCategory;
  severity: Severity;
  headline: string;
  text: string;
  instruction?: string;
  expiresInMs: number;
  exercise: boolean;
}

export interface AlertCounts {
  recipients: number;
  queued: number;
  sent: number;
  failed: number;
  received: number;
  safe: number;
  needHelp: number;
}

type T = (key: string, params?: Record<string, unknown>) => string;

export interface AlertServiceDeps {
  db: Db;
  outbox: Outbox;
  actors: ActorService;
  cases: CaseService;
  translator: Translator;
  clock: Clock;
}

const SEVERITY_ICON: Record<string, string> = { extreme: '🔴', severe: '🟠', moderate: '🟡', minor: '🔵' };

export function createAlertService(deps: AlertServiceDeps) {
  const { db, outbox, actors, clock, translator } = deps;

  /** The alert as a resident reads it, in their language; the preview uses the same function. */
  function render(a: Pick<Alert, 'id' | 'category' | 'severity' | 'headline' | 'text' | 'instruction' | 'exercise' | 'expiresAt' | 'kind'>, t: T, locale: string, groupNames: string, extra: { updateOfHeadline?: string; reping?: boolean; sender?: AlertSender } = {}): Outbound {
    const lines: string[] = [];
    if (a.exercise) lines.push(t('alerts:exerciseBanner'));
    if (extra.reping) lines.push(t('alerts:repingBanner'));
    if (a.kind === 'update') lines.push(t('alerts:updateBanner', { headline: extra.updateOfHeadline ?? '' }));
    // A cancellation says so and why, without the alarm header again (issue 11 item 4).
    if (a.kind === 'cancel') lines.push(t('alerts:cancelBanner', { headline: extra.updateOfHeadline ?? '' }), t('alerts:cancelReason', { text: a.text }));
    else {
      lines.push(
        `${SEVERITY_ICON[a.severity] ?? ''} ${t('alerts:header', { severity: t(SEVERITY_LEVEL_KEYS[a.severity as Severity] ?? 'alerts:level_minor'), category: t(ALERT_CATEGORY_KEYS[a.category as AlertCategory] ?? 'alerts:cat_other') })}`,
        a.headline,
        '',
        a.text,
      );
    }
    if (a.instruction) lines.push('', t('alerts:instruction', { text: a.instruction }));
    if (a.kind !== 'cancel') lines.push('', t('alerts:validUntil', { time: formatTime(a.expiresAt, locale) }));
    const sentBy = senderLine(extra.sender, t);
    if (sentBy) lines.push(sentBy);
    lines.push(t('alerts:from', { groups: groupNames }));
    if (a.exercise) lines.push(t('alerts:exerciseBanner'));
    const out: Outbound = { text: lines.join('\n') };
    if (a.kind !== 'cancel') out.tone = 'alert'; // the web chat frames it so it stands out (a cancellation reads as an all-clear)
    if (a.kind !== 'cancel') out.choices = answerChoices(a.kind === 'alert' ? a.id : undefined, t);
    return out;
  }

  function answerChoices(alertId: string | undefined, t: T): Choice[][] {
    const id = alertId ?? 'preview';
    return [
      [{ id: `a:${id}:r`, label: t('alerts:answerReceived') }],
      [{ id: `a:${id}:s`, label: t('alerts:answerSafe') }],
      [{ id: `a:${id}:h`, label: t('alerts:answerHelp') }],
    ];
  }

  async function authorizeGroups(senderId: string, groupIds: string[]) {
    if (!groupIds.length) throw new DomainError('alerts:noTargets');
    const actor = await actors.actor(senderId);
    const groups = await db.group.findMany({ where: { id: { in: groupIds } } });
    for (const g of groups) {
      if (!can(actor, 'group.alert', { kind: 'group', groupId: g.id, areaChain: await actors.areaChain(g.areaId) })) {
        throw new DomainError('alerts:forbiddenGroup', { group: g.name });
      }
    }
    if (groups.length !== new Set(groupIds).size) throw new DomainError('alerts:noTargets');
    return groups;
  }

  /** One reachable account per active member of the groups (each person once); the SQL is in persistence/alert-audience.ts. */
  async function audience(groupIds: string[]) {
    const seen = new Map<string, { locale: 'vi' | 'en'; account: { id: string; channel: string; chatId: string } }>();
    for (const m of await alertAudience(db, groupIds)) seen.set(m.personId, { locale: asLocale(m.locale, translator.defaultLocale), account: m.account });
    return seen;
  }

  async function groupNames(alertId: string): Promise<string> {
    const groups = await db.alertGroup.findMany({ where: { alertId }, include: { group: { select: { name: true } } } });
    return groups.map((g) => g.group.name).join(', ');
  }

  /** Writes rows for many recipients in one batched transaction; payloads are rendered once per language. */
  function fanOut(alert: Alert, kind: string, targets: Map<string, { locale: 'vi' | 'en'; account: { id: string; channel: string; chatId: string } }>, renderFor: (t: T, locale: string) => Outbound) {
    const payloads = new Map<string, string>();
    const payloadFor = (locale: 'vi' | 'en') => {
      let p = payloads.get(locale);
      if (!p) {
        const t: T = (k, params) => translator.t(locale, k, params);
        p = JSON.stringify(withHint(renderFor(t, locale), t));
        payloads.set(locale, p);
      }
      return p;
    };
    const channels = new Set<string>();
    const rows = [...targets.values()].map((r) => {
      channels.add(r.account.channel);
      return { kind, channel: r.account.channel, accountId: r.account.id, chatId: r.account.chatId, payload: payloadFor(r.locale), alertId: alert.id };
    });
    return { rows, channels };
  }

  async function counts(alertId: string): Promise<AlertCounts> {
    const groups = await db.delivery.groupBy({ by: ['status', 'answer'], where: { alertId, kind: 'alert' }, _count: { _all: true } });
    const c: AlertCounts = { recipients: 0, queued: 0, sent: 0, failed: 0, received: 0, safe: 0, needHelp: 0 };
    for (const g of groups) {
      const n = g._count._all;
      c.recipients += n;
      if (g.status === 'queued' || g.status === 'sending') c.queued += n;
      else if (g.status === 'sent') c.sent += n;
      else if (g.status !== 'cancelled') c.failed += n; // copies dropped by a cancellation were never due
      if (g.answer === 'received') c.received += n;
      else if (g.answer === 'safe') c.safe += n;
      else if (g.answer === 'need_help') c.needHelp += n;
    }
    return c;
  }

  function statusText(alert: Alert, c: AlertCounts, t: T): string {
    const lines = [
      t(alert.status === 'cancelled' ? 'alerts:statusTitleCancelled' : 'alerts:statusTitle', { headline: alert.headline }),
      t('alerts:statusCounts', { ...c }),
    ];
    if (alert.expiresAt <= clock.now()) lines.push(t('alerts:statusExpired'));
    return lines.join('\n');
  }

  function statusChoices(alert: Alert, t: T): Choice[][] {
    const rows: Choice[][] = [[{ id: `as:${alert.id}:refresh`, label: t('alerts:refresh') }]];
    if (alert.status !== 'cancelled' && alert.expiresAt > clock.now()) {
      rows.push([{ id: `as:${alert.id}:reping`, label: t('alerts:reping') }]);
      rows.push([{ id: `as:${alert.id}:update`, label: t('alerts:update') }, { id: `as:${alert.id}:cancel`, label: t('alerts:cancel') }]);
    }
    return rows;
  }

  async function senderOnly(personId: string, alertId: string): Promise<Alert> {
    const alert = await db.alert.findUnique({ where: { id: alertId } });
    if (!alert) throw new DomainError('alerts:notFound');
    if (alert.senderId !== personId) {
      const actor = await actors.actor(personId);
      if (!actor.admin) throw new DomainError('alerts:notSender');
    }
    return alert;
  }

  const service = {
    render,
    counts,

    /** The alert an alert draft was sent as (its idempotency key), if this sender sent it, with its recipient count. */
    async sentFromDraft(senderId: string, draftKey: string): Promise<{ alert: Alert; recipients: number } | null> {
      const alert = draftKey ? await db.alert.findUnique({ where: { draftKey } }) : null;
      if (!alert || alert.senderId !== senderId) return null;
      return { alert, recipients: await db.delivery.count({ where: { alertId: alert.id, kind: 'alert' } }) };
    },

    /** Groups this person may send alerts to (leaders/deputies: theirs; officers: every group in their area). */
    async sendableGroups(personId: string) {
      const actor = await actors.actor(personId);
      const areaIds = actor.officerAreaIds.length ? await actors.descendants(actor.officerAreaIds) : [];
      const leaderOf = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      return db.group.findMany({
        where: actor.admin ? {} : { OR: [{ id: { in: leaderOf } }, { areaId: { in: areaIds } }] },
        include: { area: { select: { name: true } } },
        orderBy: { name: 'asc' },
        take: 200,
      });
    },

    async audienceSize(groupIds: string[]): Promise<number> {
      return (await audience(groupIds)).size;
    },

    /** Preview exactly as residents will read it (in the sender's language). */
    async preview(draft: AlertDraft, t: T, locale: string, senderId?: string): Promise<Outbound> {
      const groups = await db.group.findMany({ where: { id: { in: draft.groupIds } }, select: { name: true } });
      const fake = { id: 'preview', kind: 'alert', instruction: draft.instruction ?? null, expiresAt: new Date(clock.now().getTime() + draft.expiresInMs), ...draft };
      return render(fake, t, locale, groups.map((g) => g.name).join(', '), { sender: await alertSenderOf(db, actors, senderId, draft.groupIds) });
    },

    /** Confirm: the alert, its groups and one delivery row per recipient, in one transaction. */
    /**
     * `draftKey`: the alert draft's idempotency key. A second confirm of the same draft (a double
     * tap, the update handled again after a crash, the same press at two instances) finds the
     * alert the first one sent, by the unique key, and sends nothing (`already`).
     */
    async send(senderId: string, draft: AlertDraft, draftKey?: string): Promise<{ alert: Alert; recipients: number; already?: boolean }> {
      const sentBefore = async () => {
        const found = draftKey ? await service.sentFromDraft(senderId, draftKey) : null;
        return found ? { ...found, already: true } : undefined;
      };
      const before = await sentBefore();
      if (before) return before;
      await authorizeGroups(senderId, draft.groupIds);
      const targets = await audience(draft.groupIds);
      const names = (await db.group.findMany({ where: { id: { in: draft.groupIds } }, select: { name: true } })).map((g) => g.name).join(', ');
      const sender = await outbox.recipients(db, [senderId]);
      const sentBy = await alertSenderOf(db, actors, senderId, draft.groupIds);
      let channels = new Set<string>();
      const alert = await db.$transaction(
        async (tx) => {
          const alert = await tx.alert.create({
            data: {
              senderId,
              category: draft.category,
              severity: draft.severity,
              headline: draft.headline,
              text: draft.text,
              instruction: draft.instruction ?? null,
              exercise: draft.exercise,
              expiresAt: new Date(clock.now().getTime() + draft.expiresInMs),
              createdAt: clock.now(),
              draftKey: draftKey ?? null,
              groups: { create: draft.groupIds.map((groupId) => ({ groupId })) },
            },
          });
          const out = fanOut(alert, 'alert', targets, (t, locale) => render(alert, t, locale, names, { sender: sentBy }));
          await insertDeliveries(tx, out.rows);
          channels = out.channels;
          // The sender's live status message goes out through the outbox too, so its message id is recorded for edits.
          const c = { recipients: targets.size, queued: targets.size, sent: 0, failed: 0, received: 0, safe: 0, needHelp: 0 };
          merge(channels, await outbox.enqueue(tx, 'alert_status', sender, (t) => ({ text: statusText(alert, c, t), choices: statusChoices(alert, t) }), { alertId: alert.id }));
          await tx.alert.update({ where: { id: alert.id }, data: { statusSnapshot: JSON.stringify(c) } });
          await tx.auditLog.create({ data: { actorId: senderId, action: 'alert.sent', subject: `alert:${alert.id}`, detail: JSON.stringify({ recipients: targets.size, exercise: draft.exercise }) } });
          return alert;
        },
        { timeout: 60_000 },
      ).catch(async (error: unknown) => {
        // The same draft confirmed at the same moment elsewhere: its alert won the unique key.
        if ((error as { code?: string }).code === 'P2002' && draftKey && (await sentBefore())) return undefined;
        throw error;
      });
      if (!alert) return (await sentBefore())!;
      outbox.notify(channels);
      return { alert, recipients: targets.size };
    },

    /**
     * Records a resident's answer on their delivery; "need help" also opens an urgent case.
     * Idempotent (M1, issue 8 item 8): the same answer again changes nothing, and "need help"
     * again, from the same copy or another copy of the alert (another app of the same person),
     * points to the help case still open for this alert and person (same reference, `already`)
     * instead of opening another one. Once that case is closed, "need help" opens a new one.
     */
    async answer(
      personId: string,
      alertId: string,
      code: AnswerCode,
      t: T,
    ): Promise<{ outcome: 'recorded' | 'expired' | 'cancelled'; caseRef?: string; caseId?: string; already?: boolean }> {
      // One prepared read and at most one write for the common press (persistence/alert-answers.ts).
      const target = await answerTarget(db, alertId, personId);
      if (!target) throw new DomainError('alerts:notFound');
      if (!target.deliveryId) throw new DomainError('alerts:notRecipient');
      if (target.status === 'cancelled') return { outcome: 'cancelled' };
      if (target.expiresAt <= clock.now()) return { outcome: 'expired' };
      const answer = ANSWERS[code];
      // A double tap keeps the first answer's time.
      if (target.answer !== answer) await recordAnswer(db, target.deliveryId, answer, clock.now());
      if (answer !== 'need_help') return { outcome: 'recorded' };
      const alert = await db.alert.findUniqueOrThrow({ where: { id: alertId } });
      // Help cases of this alert for this person: "<alertId>:<personId>:<n>", n counting earlier (closed) ones.
      const prefix = `${alertId}:${personId}:`;
      // (Also by reporter: after /link merged two people, the key may carry the other one's id.)
      const helpCases = () =>
        db.case.findMany({
          where: { OR: [{ helpKey: { startsWith: prefix } }, { reporterId: personId, helpKey: { startsWith: `${alertId}:` } }] },
          orderBy: { createdAt: 'desc' },
          select: { id: true, ref: true, status: true, helpKey: true },
        });
      const openOne = (rows: Array<{ id: string; ref: string; status: string }>) => rows.find((c) => (OPEN_STATUSES as readonly string[]).includes(c.status));
      const earlier = await helpCases();
      const open = openOne(earlier);
      if (open) return { outcome: 'recorded', caseRef: open.ref, caseId: open.id, already: true };
      const groups = await db.alertGroup.findMany({ where: { alertId }, select: { groupId: true } });
      const mine = await db.membership.findFirst({ where: { personId, state: 'active', groupId: { in: groups.map((g) => g.groupId) } } });
      if (!mine) return { outcome: 'recorded' };
      try {
        const filed = await deps.cases.create(
          personId,
          {
            groupId: mine.groupId,
            category: HELP_CASE_CATEGORY[alert.category as AlertCategory] ?? 'other',
            urgent: true,
            description: t('alerts:helpCaseText', { headline: alert.headline }),
            anonymous: false,
          },
          { helpKey: `${prefix}${earlier.filter((c) => c.helpKey?.startsWith(prefix)).length}` },
        );
        return { outcome: 'recorded', caseRef: filed.case.ref, caseId: filed.case.id, already: false };
      } catch (error) {
        // Another press (another instance, another app of the same person) opened it just now.
        if ((error as { code?: string }).code !== 'P2002') throw error;
        const theirs = openOne(await helpCases());
        if (!theirs) throw error;
        return { outcome: 'recorded', caseRef: theirs.ref, caseId: theirs.id, already: true };
      }
    },

    async statusView(personId: string, alertId: string, t: T): Promise<Outbound> {
      const alert = await senderOnly(personId, alertId);
      return { text: statusText(alert, await counts(alert.id), t), choices: statusChoices(alert, t) };
    },

    /** Re-pings, now or at `at`, the recipients who have not answered by then. */
    async scheduleReping(personId: string, alertId: string, delayMs: number): Promise<{ at: Date; reminded: number }> {
      const alert = await senderOnly(personId, alertId);
      if (alert.status === 'cancelled' || alert.expiresAt <= clock.now()) throw new DomainError('alerts:notActive');
      const at = new Date(clock.now().getTime() + delayMs);
      await db.alert.update({ where: { id: alert.id }, data: { repingAt: at } });
      const reminded = delayMs === 0 ? await service.runDueRepings(alert.id) : 0;
      return { at, reminded };
    },

    /** A fresh status message to the sender (channels that cannot edit get one when the fan-out ends). */
    async sendStatusToSender(alertId: string): Promise<void> {
      const alert = await db.alert.findUnique({ where: { id: alertId } });
      if (!alert?.senderId) return;
      const c = await counts(alert.id);
      const recipients = await outbox.recipients(db, [alert.senderId]);
      outbox.notify(await outbox.enqueue(db, 'alert_status', recipients, (t) => ({ text: statusText(alert, c, t), choices: statusChoices(alert, t) }), { alertId: alert.id }));
    },

    /** What the sender's cancel confirmation names: the headline and how many received it. */
    async summary(personId: string, alertId: string): Promise<{ headline: string; sent: number }> {
      const alert = await senderOnly(personId, alertId);
      return { headline: alert.headline, sent: (await counts(alert.id)).sent };
    },

    /** Sends the re-pings that are due (called by the follow-up job and after "re-ping now"). */
    async runDueRepings(onlyAlertId?: string): Promise<number> {
      const due = await db.alert.findMany({ where: { repingAt: { lte: clock.now() }, status: { not: 'cancelled' }, ...(onlyAlertId ? { id: onlyAlertId } : {}) } });
      let sent = 0;
      for (const alert of due) {
        // Taken by a conditional write: with several instances, only one sends a given re-ping.
        const taken = await db.alert.updateMany({ where: { id: alert.id, repingAt: alert.repingAt }, data: { repingAt: null } });
        if (!taken.count) continue;
        if (alert.expiresAt <= clock.now()) continue;
        const silent = await db.delivery.findMany({
          // The sender is not reminded of their own alert.
          where: { alertId: alert.id, kind: 'alert', status: 'sent', answer: null, ...(alert.senderId ? { account: { personId: { not: alert.senderId } } } : {}) },
          select: { accountId: true, channel: true, chatId: true, account: { select: { unreachableAt: true, person: { select: { locale: true } } } } },
        });
        const names = await groupNames(alert.id);
        const sentBy = await alertSenderOf(db, actors, alert.senderId, (await db.alertGroup.findMany({ where: { alertId: alert.id }, select: { groupId: true } })).map((g) => g.groupId));
        const targets = new Map<string, { locale: 'vi' | 'en'; account: { id: string; channel: string; chatId: string } }>();
        for (const d of silent) {
          if (!d.accountId || !d.account || d.account.unreachableAt) continue;
          targets.set(d.accountId, { locale: asLocale(d.account.person.locale, translator.defaultLocale), account: { id: d.accountId, channel: d.channel, chatId: d.chatId } });
        }
        const out = fanOut(alert, 'alert_reping', targets, (t, locale) => ({ ...render(alert, t, locale, names, { reping: true, sender: sentBy }) }));
        await db.delivery.createMany({ data: out.rows });
        outbox.notify(out.channels);
        sent += out.rows.length;
      }
      return sent;
    },

    /** An update or a cancellation goes to the same recipients and says what it changes. */
    async follow(personId: string, alertId: string, kind: 'update' | 'cancel', change: { headline?: string; text: string }): Promise<{ alert: Alert; recipients: number }> {
      const original = await senderOnly(personId, alertId);
      if (original.status === 'cancelled') throw new DomainError('alerts:notActive');
      const names = await groupNames(original.id);
      const sentBy = await alertSenderOf(db, actors, personId, (await db.alertGroup.findMany({ where: { alertId: original.id }, select: { groupId: true } })).map((g) => g.groupId));
      let channels = new Set<string>();
      let recipients = 0;
      const created = await db.$transaction(
        async (tx) => {
          if (kind === 'cancel') {
            await tx.alert.update({ where: { id: original.id }, data: { status: 'cancelled', repingAt: null } });
            // Copies not yet sent are dropped: nobody needs to hear of an alert and its cancellation at once.
            await tx.delivery.updateMany({ where: { alertId: original.id, status: 'queued' }, data: { status: 'cancelled' } });
          }
          const follow = await tx.alert.create({
            data: {
              senderId: personId,
              category: original.category,
              severity: original.severity,
              headline: change.headline ?? original.headline,
              text: change.text,
              instruction: kind === 'update' ? original.instruction : null,
              exercise: original.exercise,
              expiresAt: original.expiresAt,
              kind,
              updateOfId: original.id,
              status: 'sent',
              createdAt: clock.now(),
            },
          });
          const reached = await tx.delivery.findMany({
            where: { alertId: original.id, kind: 'alert', status: kind === 'cancel' ? 'sent' : { in: ['sent', 'queued', 'sending'] } },
            select: { accountId: true, channel: true, chatId: true, account: { select: { person: { select: { locale: true } } } } },
          });
          const targets = new Map<string, { locale: 'vi' | 'en'; account: { id: string; channel: string; chatId: string } }>();
          for (const d of reached) {
            if (d.accountId) targets.set(d.accountId, { locale: asLocale(d.account?.person.locale, translator.defaultLocale), account: { id: d.accountId, channel: d.channel, chatId: d.chatId } });
          }
          const out = fanOut(follow, 'alert_follow', targets, (t, locale) => {
            const body = render(follow, t, locale, names, { updateOfHeadline: original.headline, sender: sentBy });
            // Answers to an update still count for the original alert.
            return kind === 'update' ? { ...body, choices: answerChoices(original.id, t) } : body;
          });
          await insertDeliveries(tx, out.rows.map((r) => ({ ...r, alertId: follow.id })));
          channels = out.channels;
          recipients = out.rows.length;
          await tx.auditLog.create({ data: { actorId: personId, action: `alert.${kind}`, subject: `alert:${original.id}` } });
          return follow;
        },
        { timeout: 60_000 },
      );
      outbox.notify(channels);
      return { alert: created, recipients };
    },

    /**
     * Live counts for senders: when an alert's counts changed since last shown, returns what
     * to show. The caller edits the status message where the channel can, or sends a new one.
     */
    async changedStatuses(): Promise<Array<{ alert: Alert; previous: AlertCounts | null; counts: AlertCounts; statusDelivery: { channel: string; chatId: string; platformMessageId: string | null; accountId: string | null }; text: (t: T) => Outbound; locale: 'vi' | 'en' }>> {
      const recent = await db.alert.findMany({ where: { kind: 'alert', createdAt: { gte: new Date(clock.now().getTime() - 3 * 86_400_000) } } });
      const changed = [];
      for (const alert of recent) {
        const c = await counts(alert.id);
        const snapshot = JSON.stringify(c);
        if (snapshot === alert.statusSnapshot) continue;
        const status = await db.delivery.findFirst({
          where: { alertId: alert.id, kind: 'alert_status', status: 'sent' },
          orderBy: { createdAt: 'desc' },
          select: { channel: true, chatId: true, platformMessageId: true, accountId: true, account: { select: { person: { select: { locale: true } } } } },
        });
        if (!status) continue;
        // Conditional, like the re-pings: two instances never both report the same change.
        const taken = await db.alert.updateMany({ where: { id: alert.id, statusSnapshot: alert.statusSnapshot }, data: { statusSnapshot: snapshot } });
        if (!taken.count) continue;
        changed.push({
          alert,
          previous: alert.statusSnapshot ? (JSON.parse(alert.statusSnapshot) as AlertCounts) : null,
          counts: c,
          statusDelivery: status,
          locale: asLocale(status.account?.person.locale, translator.defaultLocale),
          text: (t: T) => ({ text: statusText(alert, c, t), choices: statusChoices(alert, t) }),
        });
      }
      return changed;
    },

    /**
     * A status change reported by changedStatuses that did not reach the sender (the edit failed
     * for a passing reason): the counts shown before are put back, so the next round shows these
     * again instead of taking them as shown. Conditional: a newer change taken meanwhile stays.
     */
    async statusNotShown(change: { alert: Alert; counts: AlertCounts }): Promise<void> {
      await db.alert.updateMany({ where: { id: change.alert.id, statusSnapshot: JSON.stringify(change.counts) }, data: { statusSnapshot: change.alert.statusSnapshot } });
    },
  };
  return service;
}

function merge(into: Set<string>, from: Set<string>) {
  from.forEach((c) => into.add(c));
}

export type AlertService = ReturnType<typeof createAlertService>;
