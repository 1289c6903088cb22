/** /groups and /join CODE: see one's groups, join, leave, and lead; approval buttons for leaders. */
import type { Feature, Session } from '../bot-core.js';
import { joinFlow } from '../flows/onboarding.flow.js';
import { groupsFlow } from '../flows/groups.flow.js';
import { joinFirstStep, joinGroupSaying } from '../flows/placement.steps.js';

/** "g:<membershipId>:approve|refuse" on a join request sent to leaders. */
async function requestButton(session: Session, rest: string) {
  const [membershipId = '', verb = ''] = rest.split(':');
  const approve = verb === 'approve';
  const { group, changed } = await session.services.groups.decide(session.identity.person.id, membershipId, approve);
  const key = !changed ? 'groups:alreadyDecided' : approve ? 'groups:decidedApprove' : 'groups:decidedRefuse';
  session.say({ text: session.t(key, { group: group.name }) });
}

export const groupsFeature: Feature = {
  flows: [joinFlow, groupsFlow],
  commands: {
    groups: (session) => session.startFlow('groups'),
    async join(session, args) {
      if (!args) {
        await session.startFlow('join', {}, 'code');
        return;
      }
      const group = await session.services.groups.findByInviteCode(args);
      if (!group) {
        session.leaveFlow();
        session.say({ text: session.t('onboarding:codeInvalid', { code: args.slice(0, 32) }) });
        await session.startFlow('join', {}, 'code');
        return;
      }
      // A group by approval asks first what the leader should know; every group, whether its leaders may see the name.
      const first = await joinFirstStep(session.services, session.identity.person.id, group);
      if (first) {
        await session.startFlow('join', { joinGroupId: group.id }, first);
        return;
      }
      session.leaveFlow();
      session.say(await joinGroupSaying(session.services, session.t, session.identity.person.id, group));
      await session.showMenu();
    },
  },
  menu: [{ action: 'groups', labelKey: 'menu:myGroups' }],
  notificationChoices: { 'g:': requestButton },
};
