/** /groups and /join CODE: see one's groups and join another. */
import type { Feature } from '../bot-core.js';
import { joinFlow } from '../flows/onboarding.flow.js';
import { joinGroupSaying } from '../flows/placement.steps.js';

export const groupsFeature: Feature = {
  flows: [joinFlow],
  commands: {
    async groups(session) {
      session.leaveFlow();
      const memberships = await session.services.groups.mine(session.identity.person.id);
      if (memberships.length === 0) {
        session.say({ text: session.t('menu:noGroups') });
      } else {
        const list = memberships
          .map((m) =>
            session.t('menu:groupLine', {
              group: m.group.name,
              area: m.group.area.name,
              state: session.t(m.state === 'pending' ? 'menu:state_pending' : 'menu:state_active'),
            }),
          )
          .join('\n');
        session.say({ text: session.t('menu:groupsList', { list }) });
      }
      await session.startFlow('join');
    },
    async join(session, args) {
      if (!args) {
        await session.startFlow('join', {}, 'code');
        return;
      }
      session.leaveFlow();
      const group = await session.services.groups.findByInviteCode(args);
      if (!group) {
        session.say({ text: session.t('onboarding:codeInvalid', { code: args.slice(0, 32) }) });
        await session.startFlow('join', {}, 'code');
        return;
      }
      session.say(await joinGroupSaying(session.services, session.t, session.identity.person.id, group));
      await session.showMenu();
    },
  },
  menu: [{ action: 'groups', labelKey: 'menu:myGroups' }],
};
