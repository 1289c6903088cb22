/** The commands every channel has from the first day: /start /menu /help /cancel /lang /resume. */
import type { Feature } from '../bot-core.js';
import { onboardingFlow, languageFlow } from '../flows/onboarding.flow.js';

export const generalFeature: Feature = {
  flows: [onboardingFlow, languageFlow],
  commands: {
    async start(session) {
      if (session.identity.person.onboardedAt) {
        session.leaveFlow();
        session.say({ text: session.t('onboarding:welcomeBack') });
        await session.showMenu();
        return;
      }
      await session.startFlow('onboarding');
    },
    async menu(session) {
      session.leaveFlow();
      await session.showMenu();
    },
    /** Emergency numbers first, then what this person's role can do, worded for their channel. */
    async help(session) {
      session.leaveFlow();
      const handler = await session.services.cases.isHandlerAnywhere(session.identity.person.id);
      const parts = [
        session.t('menu:helpEmergency'),
        session.t('menu:helpCommands'),
        handler ? session.t('menu:helpHandler') : undefined,
        session.t(session.inbound.channel === 'zalo' ? 'menu:helpHowZalo' : 'menu:helpHow'),
      ];
      session.say({ text: parts.filter(Boolean).join('\n\n') });
      await session.showMenu();
    },
    async cancel(session) {
      const wasBusy = session.discardFlow();
      session.say({ text: session.t(wasBusy ? 'common:cancelled' : 'common:nothingToCancel') });
      await session.showMenu();
    },
    async lang(session) {
      await session.startFlow('language');
    },
    async resume(session) {
      const suspended = session.state.suspended;
      if (!suspended) {
        session.leaveFlow();
        session.say({ text: session.t('common:nothingToResume') });
        await session.showMenu();
        return;
      }
      session.state.suspended = null;
      await session.startFlow(suspended.flow, suspended.data, suspended.step);
    },
  },
  menu: [
    { action: 'lang', labelKey: 'menu:language' },
    { action: 'help', labelKey: 'menu:help' },
  ],
};
