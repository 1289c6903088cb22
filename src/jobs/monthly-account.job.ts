/**
 * Timers of "dân bàn, dân giám sát": polls whose time is up are closed and their results sent;
 * 30 days after a mediation agreement both parties are asked whether it holds;
 * in the first days of a month, last month's account goes to every member who has not turned it
 * off. Both keep their state in the database (Poll.closedAt, MonthlyAccount rows), so a restart
 * loses nothing and sends nothing twice: the first check after it catches up.
 */
import type { Logger } from '../logger.js';
import { startPeriodicCheck } from './periodic.js';

export function startParticipationJobs(deps: {
  closeDuePolls(): Promise<number>;
  sendMonthlyAccounts(): Promise<number>;
  askMediationFollowUps(): Promise<number>;
  logger: Logger;
  everyMs?: number;
}) {
  return startPeriodicCheck(
    'participation check',
    async () => {
      const closed = await deps.closeDuePolls();
      if (closed) deps.logger.info(`closed ${closed} poll(s) and sent their results`);
      const asked = await deps.askMediationFollowUps();
      if (asked) deps.logger.info(`asked the parties of ${asked} mediation(s) whether the agreement holds`);
      const sent = await deps.sendMonthlyAccounts();
      if (sent) deps.logger.info(`sent the monthly account to ${sent} person(s)`);
    },
    deps.logger,
    deps.everyMs ?? 30_000,
  );
}
