/** /settings, /link CODE and /delete_me: a person's control over their own data. */
import type { Feature } from '../bot-core.js';
import { settingsFlow } from '../flows/settings.flow.js';

export const settingsFeature: Feature = {
  flows: [settingsFlow],
  commands: {
    settings: (session) => session.startFlow('settings'),
    delete_me: (session) => session.startFlow('settings', {}, 'deleteConfirm'),
    async link(session, args) {
      if (!args) {
        await session.startFlow('settings', {}, 'linkCode');
        return;
      }
      session.leaveFlow();
      await session.services.links.redeem(session.identity.account.id, args);
      session.say({ text: session.t('settings:linkDone') });
      await session.showMenu();
    },
  },
  menu: [{ action: 'settings', labelKey: 'settings:menu' }],
};
