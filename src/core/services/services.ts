import type { Db } from './db.js';
import type { Locale, Translator } from '../ports/translator.js';
import type { Clock } from '../ports/clock.js';
import type { MediaFiles, PhotoSource } from '../ports/photo-source.js';
import { createPeopleService } from './people.service.js';
import { createAreaService } from './area.service.js';
import { createGroupService } from './group.service.js';
import { createMediaService } from './media.service.js';
import { createConversationService, createProcessedUpdates } from './conversation.service.js';
import { createOutbox } from './outbox.service.js';
import { createActorService } from './actor.service.js';
import { createCaseService } from './case.service.js';
import { createAlertService } from './alert.service.js';
import { createAccountLinkService } from './account-link.service.js';
import { createPersonalDataService } from './personal-data.service.js';
import { createRoleService } from './role.service.js';
import { createPollService } from './poll.service.js';
import { createMonthlyAccountService } from './monthly-account.service.js';
import { createMediationService } from './mediation.service.js';
import { createForumService } from './forum.service.js';

export interface ServiceDeps {
  db: Db;
  defaultLocale: Locale;
  clock: Clock;
  translator: Translator;
  publicUrl?: string;
  escalation: { urgentMs: number; normalMs: number; levelFactors?: number[] };
  photoSource?: PhotoSource;
  /** The web chat is public (PUBLIC_URL set): joining a group from it needs an invite code. */
  webJoinNeedsInviteCode?: boolean;
  /** Where stored photos' files live (re-encoded, without metadata). */
  mediaFiles: MediaFiles;
  /** Wakes the delivery workers of these channels after rows were queued. */
  onQueued?(channels: Set<string>): void;
}

/** Every domain service, built once in the composition root and handed to flows. */
export function createServices(deps: ServiceDeps) {
  const outbox = createOutbox({ translator: deps.translator, onQueued: (c) => deps.onQueued?.(c) });
  const actors = createActorService(deps.db);
  const cases = createCaseService({
    db: deps.db,
    outbox,
    actors,
    translator: deps.translator,
    clock: deps.clock,
    publicUrl: deps.publicUrl,
    escalation: deps.escalation,
  });
  const media = createMediaService({ db: deps.db, files: deps.mediaFiles, clock: deps.clock, source: deps.photoSource });
  const polls = createPollService({ db: deps.db, outbox, actors, clock: deps.clock });
  const mediation = createMediationService({ db: deps.db, outbox, actors, cases, clock: deps.clock });
  return {
    polls,
    mediation,
    forums: createForumService({ db: deps.db, outbox, actors, clock: deps.clock }),
    monthlyAccount: createMonthlyAccountService({ db: deps.db, outbox, polls, mediation, clock: deps.clock }),
    people: createPeopleService(deps.db, deps.defaultLocale),
    areas: createAreaService(deps.db),
    groups: createGroupService({ db: deps.db, outbox, actors, clock: deps.clock }),
    conversations: createConversationService(deps.db),
    processedUpdates: createProcessedUpdates(deps.db),
    media,
    outbox,
    actors,
    cases,
    links: createAccountLinkService(deps.db, deps.clock),
    personalData: createPersonalDataService(deps.db, deps.clock, media),
    roles: createRoleService(deps.db, deps.clock),
    /** Facts about this deployment that join rules depend on (see mayJoinByBrowsing in authz/policy.ts). */
    joinRules: { webJoinNeedsInviteCode: deps.webJoinNeedsInviteCode ?? false },
    alerts: createAlertService({ db: deps.db, outbox, actors, cases, translator: deps.translator, clock: deps.clock }),
  };
}

export type Services = ReturnType<typeof createServices>;
