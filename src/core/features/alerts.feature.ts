/** Alerts: /alert to compose, residents' answer buttons, and the sender's follow-up buttons. */
import type { Feature, Session } from '../bot-core.js';
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
  else if (code === 'h') session.say({ text: result.caseRef ? session.t('alerts:helpRecorded', { ref: result.caseRef }) : session.t('alerts:helpNoGroup') });
  else session.say({ text: session.t('alerts:answerRecorded') });
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
  menu: [{ action: 'alert', labelKey: 'alerts:menu', visible: (identity, services) => services.cases.isHandlerAnywhere(identity.person.id) }],
  notificationChoices: { 'a:': answer, 'as:': senderAction },
};
