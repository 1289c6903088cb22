/**
 * "Dân bàn, dân kiểm tra, dân giám sát": /poll to ask members a question, /polls to see the
 * questions of one's groups and their results, and the answer buttons on a poll received.
 */
import type { Feature, Session } from '../bot-core.js';
import { pollAnswerFlow, pollFlow } from '../flows/poll.flow.js';
import { mediationFlow, mediationRequestFlow } from '../flows/mediation.flow.js';
import { forumFlow, forumHandleFlow, forumSayFlow } from '../flows/forum.flow.js';

async function poll(session: Session) {
  const groups = await session.services.polls.askableGroups(session.identity.person.id);
  if (!groups.length) {
    session.leaveFlow();
    session.say({ text: session.t('polls:notAllowed') });
    await session.showMenu();
    return;
  }
  if (groups.length === 1) await session.startFlow('poll', { groupIds: [groups[0]!.id] }, 'kind');
  else await session.startFlow('poll');
}

/** "p:<pollId>:o:<i>" (an option), "p:<pollId>:a" (write an answer), "p:<pollId>:v" (open it from /polls). */
async function pollButton(session: Session, rest: string) {
  const [pollId = '', verb = '', arg = ''] = rest.split(':');
  if (pollId === 'preview') {
    session.say({ text: session.t('polls:previewOnly') });
    return;
  }
  const polls = session.services.polls;
  const me = session.identity.person.id;
  if (verb === 'v') {
    session.leaveFlow();
    session.say(await polls.view(me, pollId, session.t, session.locale));
    return;
  }
  const p = await polls.forViewer(me, pollId);
  if (!polls.isOpen(p)) {
    session.say({ text: session.t('polls:closed') });
    return;
  }
  if (verb === 'a' && p.kind === 'free') {
    await session.startFlow('poll-answer', { pollId }, 'free');
    return;
  }
  const index = Number(arg);
  if (verb !== 'o' || !Number.isInteger(index) || p.kind === 'free') {
    session.say({ text: session.t('common:chooseFromList') });
    return;
  }
  if (p.kind === 'multiple') {
    const mine = await polls.myAnswer(me, pollId);
    const picked = new Set(mine?.choices ?? []);
    picked.add(index);
    await session.startFlow('poll-answer', { pollId, picked: [...picked].sort((a, b) => a - b) }, 'pick');
    return;
  }
  const { changed } = await polls.answer(me, pollId, { choices: [index] });
  // The options stay offered, so a typed number (Zalo) changes the answer until closing.
  session.say({
    text: `${session.t(changed ? 'polls:answerChanged' : 'polls:answerRecorded')}\n${session.t('polls:yourAnswer', { answer: polls.optionsOf(p)[index] ?? '' })}`,
    choices: polls.render(p, session.t, session.locale, '').choices,
  });
}

/** /mediation: one's requests and a new one; /mediation CODE: the invited party accepts the invitation. */
async function mediation(session: Session, args: string) {
  if (!args) {
    await session.startFlow('mediation');
    return;
  }
  session.leaveFlow();
  const m = await session.services.mediation.redeemInvite(session.identity.person.id, args);
  session.say(await session.services.mediation.invitation(m, session.t));
}

/** "m:<mediationId>:<verb>" on mediation messages; every verb is authorized by the service (policy). */
async function mediationButton(session: Session, rest: string) {
  const [id = '', verb = ''] = rest.split(':');
  const svc = session.services.mediation;
  const me = session.identity.person.id;
  const done = (key: string, ref: string) => session.say({ text: session.t(key, { ref }) });
  switch (verb) {
    case 'v':
      session.leaveFlow();
      session.say(await svc.view(me, id, session.t));
      return;
    case 'consent':
    case 'decline': {
      const m = await svc.consent(me, id, verb === 'consent');
      done(verb === 'consent' ? 'mediation:consentRecorded' : 'mediation:declineRecorded', m.ref);
      return;
    }
    case 'yes':
    case 'no':
      done('mediation:sessionAnswered', (await svc.answerSession(me, id, verb === 'yes')).ref);
      return;
    case 'holds':
    case 'broken':
      done('mediation:holdsRecorded', (await svc.answerHolds(me, id, verb === 'holds')).ref);
      return;
    case 'withdraw':
      done('mediation:withdrawn', (await svc.withdraw(me, id)).ref);
      return;
    case 'accept':
      done('mediation:acceptedDone', (await svc.accept(me, id)).ref);
      return;
    case 'propose':
    case 'refer':
    case 'conclude':
      await svc.assertTeam(me, id); // anyone but the group's team: "not found"
      await session.startFlow('mediation', { mediationId: id }, verb === 'conclude' ? 'outcome' : verb);
      return;
    default:
      session.say({ text: session.t('common:chooseFromList') });
  }
}

async function forum(session: Session) {
  if (!(await session.services.polls.askableGroups(session.identity.person.id)).length) {
    session.leaveFlow();
    session.say({ text: session.t('forums:notAllowed') });
    await session.showMenu();
    return;
  }
  const groups = await session.services.polls.askableGroups(session.identity.person.id);
  if (groups.length === 1) await session.startFlow('forum', { groupIds: [groups[0]!.id] }, 'topic');
  else await session.startFlow('forum');
}

/** "f:<forumId>:say" (send an opinion), ":h" (handlers: read them), ":answer" and ":close" (handlers). */
async function forumButton(session: Session, rest: string) {
  const [forumId = '', verb = ''] = rest.split(':');
  const forums = session.services.forums;
  const me = session.identity.person.id;
  switch (verb) {
    case 'say': {
      const f = await forums.forParticipant(me, forumId);
      if (!forums.isOpen(f)) {
        session.say({ text: session.t('forums:closed') });
        return;
      }
      await session.startFlow('forum-say', { forumId }, 'anonymity');
      return;
    }
    case 'h':
      session.leaveFlow();
      session.say(await forums.handlerView(me, forumId, session.t, session.locale));
      return;
    case 'answer':
    case 'close':
      await forums.assertHandler(me, forumId);
      await session.startFlow('forum-handle', { forumId }, verb === 'answer' ? 'pick' : 'summary');
      return;
    default:
      session.say({ text: session.t('common:chooseFromList') });
  }
}

export const participationFeature: Feature = {
  flows: [pollFlow, pollAnswerFlow, mediationFlow, mediationRequestFlow, forumFlow, forumSayFlow, forumHandleFlow],
  commands: {
    poll,
    polls: (session) => session.startFlow('poll-answer', {}, 'list'),
    mediation,
    forum,
    forums: (session) => session.startFlow('forum-say', {}, 'list'),
  },
  menu: [
    { action: 'polls', labelKey: 'polls:menu' },
    { action: 'mediation', labelKey: 'mediation:menu' },
    { action: 'forums', labelKey: 'forums:menu' },
  ],
  notificationChoices: { 'p:': pollButton, 'm:': mediationButton, 'f:': forumButton },
};
