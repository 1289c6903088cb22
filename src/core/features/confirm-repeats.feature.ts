/**
 * A report's or an alert's Send button pressed again once its draft is done (a double tap, a
 * press on an old copy of the preview, the same press handled by a second instance after the
 * first finished): the person hears what became of that draft, with the same reference, and
 * nothing is filed or sent again. The button carries the draft's key ("report:send:<key>").
 */
import type { Feature, Session } from '../bot-core.js';

async function reportAgain(session: Session, key: string) {
  const filed = await session.services.cases.filedFromDraft(session.identity.person.id, key);
  session.say({ text: filed ? session.t('report:alreadySent', { ref: filed.ref }) : session.t('common:chooseFromList') });
}

async function alertAgain(session: Session, key: string) {
  const sent = await session.services.alerts.sentFromDraft(session.identity.person.id, key);
  session.say({ text: sent ? session.t('alerts:alreadySent', { headline: sent.alert.headline, count: sent.recipients }) : session.t('common:chooseFromList') });
}

export const confirmRepeatsFeature: Feature = {
  repeatedChoices: { 'report:send:': reportAgain, 'alert:send:': alertAgain },
};
