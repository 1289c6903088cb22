/** Reports: /report, /myreports, /cases, and the buttons on case notifications. */
import { forHandlers, type Feature, type Session } from '../bot-core.js';
import { reportFlow } from '../flows/report.flow.js';
import { casesFlow } from '../flows/cases.flow.js';
import { myReportsFlow } from '../flows/my-reports.flow.js';

/** The emergency question comes first, for everyone; the report flow checks the group after it. */
async function report(session: Session) {
  await session.startFlow('report');
}

async function cases(session: Session) {
  if (!(await session.services.cases.isHandlerAnywhere(session.identity.person.id))) {
    session.leaveFlow();
    session.say({ text: session.t('cases:notHandler') });
    await session.showMenu();
    return;
  }
  await session.startFlow('cases');
}

/** "c:<caseId>:<verb>" buttons on notifications. */
async function caseButton(session: Session, rest: string) {
  const [caseId = '', verb = ''] = rest.split(':');
  const me = session.identity.person.id;
  const svc = session.services.cases;
  switch (verb) {
    case 'open': {
      const own = (await svc.mine(me)).some((c) => c.id === caseId);
      if (own) await session.startFlow('myreports', { caseId }, 'case');
      else await session.startFlow('cases', { caseId }, 'case');
      return;
    }
    case 'reply':
      await svc.reporterView(me, caseId, session.t, session.locale);
      await session.startFlow('myreports', { caseId }, 'reply');
      return;
    case 'fixed':
    case 'notfixed': {
      const c = await svc.confirmFixed(me, caseId, verb === 'fixed');
      session.leaveFlow();
      session.say({ text: session.t(verb === 'fixed' ? 'cases:thanksFixed' : 'cases:thanksNotFixed', { ref: c.ref }) });
      await session.showMenu();
      return;
    }
    default:
      session.say({ text: session.t('common:chooseFromList') });
      await session.showMenu();
  }
}

export const casesFeature: Feature = {
  flows: [reportFlow, casesFlow, myReportsFlow],
  commands: {
    report,
    myreports: (session) => session.startFlow('myreports'),
    cases,
  },
  menu: [
    { action: 'report', labelKey: 'report:menu' },
    { action: 'myreports', labelKey: 'cases:menuMyReports' },
    { action: 'cases', labelKey: 'cases:menuCases', visible: forHandlers },
  ],
  notificationChoices: { 'c:': caseButton },
};
