/**
 * /console: a one-time sign-in link to the officers' and leaders' web console. Only people who
 * handle cases somewhere (leaders, deputies, officers, admins, as the Actor says: web-only
 * accounts carry no roles) get one. The link itself is minted outside the core (the console
 * owns its tokens); the core only decides who may ask and says it in the person's language.
 */
import type { Feature } from '../bot-core.js';

export interface ConsoleFeatureDeps {
  /** Mints a one-time link (valid 10 minutes, usable once) for this person. */
  issueLink(personId: string): Promise<string>;
}

export function createConsoleFeature(deps: ConsoleFeatureDeps): Feature {
  return {
    commands: {
      async console(session) {
        session.leaveFlow();
        const me = session.identity.person.id;
        // Mediators too: the console shows their team's requests (issue 13).
        if (!(await session.services.cases.isHandlerAnywhere(me)) && !(await session.services.mediation.isTeamAnywhere(me))) {
          session.say({ text: session.t('console:notAllowed') });
          await session.showMenu();
          return;
        }
        const link = await deps.issueLink(me);
        session.say({ text: session.t('console:linkMessage', { link, minutes: 10 }) });
      },
    },
  };
}
