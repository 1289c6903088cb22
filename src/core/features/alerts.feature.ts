/** Alerts: /alert to compose, residents' answer buttons, and the sender's follow-up buttons. */
import { forHandlers, type Feature, type Session } from '../bot-core.js';
import { alertFlow, alertFollowFlow } from '../flows/alert.flow.js';
import type { AnswerCode } from '../services/alert.catalog.js';

async function alert(session: Session) {
  const groups = await session.services.alerts.sendableGroups(session.identity.person.id);
  if (!groups.length) {
    session.leaveFlow();
    session.say({ text: session.t('alerts:notAllowed') });
    await session.showMenu();
    return;
  }
  if (groups.length === 1) await session.startFlow('alert', { groupIds: [groups[0]!.id] }, 'category');
  else await session.startFlow('alert');
}

/** "a:<alertId>:r|s|h" on every copy of an alert. */
async function answer(session: Session, rest: string) {
  const [alertId = '', code = ''] = rest.split(':');
  if (alertId === 'preview') {
    session.say({ text: session.t('alerts:previewOnly') });
    return;
  }
  if (code !== 'r' && code !== 's' && code !== 'h') {
    session.say({ text: session.t('common:chooseFromList') });
    return;
  }
  const result = await session.services.alerts.answer(session.identity.person.id, alertId, code as AnswerCode, session.t);
  if (result.outcome === 'expired') session.say({ text: session.t('alerts:expired') });
  else if (result.outcome === 'cancelled') session.say({ text: session.t('alerts:cancelled') });
  else if (code === 'h') await needHelp(session, result.caseRef);
  else session.say({ text: session.t('alerts:answerRecorded') });
}

/**
 * After "Need help": say truthfully who was told (and that nobody was, when nobody was), then ask
 * at once where the person is and what they need; the answer goes into the case thread, to the handlers.
 */
async function needHelp(session: Session, caseRef: string | undefined) {
  const t = session.t;
  const me = session.identity.person.id;
  const found = caseRef ? (await session.services.cases.mine(me)).find((c) => c.ref === caseRef) : undefined;
  if (!found) {
    session.leaveFlow();
    session.say({ text: t('alerts:helpNoGroup') });
    await session.showMenu();
    return;
  }
  const who = await session.services.cases.whoHandles(me, found.id);
  const unit = who.unit ?? t('cases:level_police');
  const told =
    who.leaders && who.police
      ? t('alerts:helpWhoBoth', { group: who.groupName, unit })
      : who.leaders
        ? t('alerts:helpWhoLeaders', { group: who.groupName })
        : who.police
          ? t('alerts:helpWhoPolice', { unit })
          : undefined;
  session.say({ text: told ? t('alerts:helpRecorded', { ref: found.ref, who: told }) : t('alerts:helpNobodyTold', { ref: found.ref }) });
  await session.startFlow('myreports', { caseId: found.id }, 'helpDetails');
}

/** "as:<alertId>:refresh|reping|update|cancel" on the sender's status message. */
async function senderAction(session: Session, rest: string) {
  const [alertId = '', verb = ''] = rest.split(':');
  const alerts = session.services.alerts;
  const me = session.identity.person.id;
  switch (verb) {
    case 'refresh':
      session.say(await alerts.statusView(me, alertId, session.t));
      return;
    case 'reping':
      await alerts.statusView(me, alertId, session.t); // checks it is the sender's
      await session.startFlow('alert-follow', { alertId }, 'reping');
      return;
    case 'update':
    case 'cancel':
      await alerts.statusView(me, alertId, session.t);
      await session.startFlow('alert-follow', { alertId, kind: verb }, 'compose');
      return;
    default:
      session.say({ text: session.t('common:chooseFromList') });
  }
}

export const alertsFeature: Feature = {
  flows: [alertFlow, alertFollowFlow],
  commands: { alert },
  menu: [{ action: 'alert', labelKey: 'alerts:menu', visible: forHandlers }],
  notificationChoices: { 'a:': answer, 'as:': senderAction },
};
