/**
 * Timers of "dân bàn, dân giám sát": polls whose time is up are closed and their results sent;
 * 30 days after a mediation agreement both parties are asked whether it holds;
 * in the first days of a month, last month's account goes to every member who has not turned it
 * off. Both keep their state in the database (Poll.closedAt, MonthlyAccount rows), so a restart
 * loses nothing and sends nothing twice: the first check after it catches up.
 */
import type { Logger } from '../logger.js';

export function startParticipationJobs(deps: {
  closeDuePolls(): Promise<number>;
  sendMonthlyAccounts(): Promise<number>;
  askMediationFollowUps(): Promise<number>;
  logger: Logger;
  everyMs?: number;
}) {
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      const closed = await deps.closeDuePolls();
      if (closed) deps.logger.info(`closed ${closed} poll(s) and sent their results`);
      const asked = await deps.askMediationFollowUps();
      if (asked) deps.logger.info(`asked the parties of ${asked} mediation(s) whether the agreement holds`);
      const sent = await deps.sendMonthlyAccounts();
      if (sent) deps.logger.info(`sent the monthly account to ${sent} person(s)`);
    } catch (error) {
      deps.logger.error('participation check failed', { error });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), deps.everyMs ?? 30_000);
  timer.unref();
  void check();
  return {
    check,
    stop() {
      clearInterval(timer);
    },
  };
}
