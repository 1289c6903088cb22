/**
 * /start: language, privacy notice, then place oneself in a residential group.
 * The person counts as onboarded once they accept the notice; placing is optional.
 */
import { choiceStep, type Flow, type Step } from '../flow.js';
import { placementSteps } from './placement.steps.js';

export const languageChoices = (t: (k: string) => string) => [
  [{ id: 'lang:vi', label: t('onboarding:languageVi') }],
  [{ id: 'lang:en', label: t('onboarding:languageEn') }],
];

const languageStep: Step = choiceStep({
  prompt: (ctx) => ({ text: ctx.t('onboarding:chooseLanguage'), choices: languageChoices(ctx.t) }),
  async choose(ctx, id) {
    if (id !== 'lang:vi' && id !== 'lang:en') return { retry: { text: ctx.t('common:chooseFromList') } };
    await ctx.setLocale(id === 'lang:en' ? 'en' : 'vi');
    return { goto: 'privacy' };
  },
});

const privacyStep: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('onboarding:privacy'),
    choices: [
      [{ id: 'privacy:accept', label: ctx.t('onboarding:privacyAccept') }],
      [{ id: 'privacy:decline', label: ctx.t('onboarding:privacyDecline') }],
    ],
  }),
  async choose(ctx, id) {
    if (id === 'privacy:decline') return { end: true, menu: false, say: [{ text: ctx.t('onboarding:privacyDeclined') }] };
    if (id !== 'privacy:accept') return { retry: { text: ctx.t('common:chooseFromList') } };
    await ctx.services.people.markOnboarded(ctx.identity.person.id);
    return { goto: 'place' };
  },
});

export const onboardingFlow: Flow = {
  name: 'onboarding',
  first: 'language',
  steps: { language: languageStep, privacy: privacyStep, ...placementSteps },
};

/** /lang: the language step on its own. */
export const languageFlow: Flow = {
  name: 'language',
  first: 'language',
  steps: {
    language: choiceStep({
      prompt: (ctx) => ({ text: ctx.t('menu:chooseLanguage'), choices: languageChoices(ctx.t) }),
      async choose(ctx, id) {
        if (id !== 'lang:vi' && id !== 'lang:en') return { retry: { text: ctx.t('common:chooseFromList') } };
        await ctx.setLocale(id === 'lang:en' ? 'en' : 'vi');
        return { end: true, say: [{ text: ctx.t('onboarding:languageSet') }] };
      },
    }),
  },
};

/** /join without a code, and "join another group" from /groups. */
export const joinFlow: Flow = { name: 'join', first: 'place', steps: { ...placementSteps } };
