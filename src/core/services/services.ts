import type { Db } from './db.js';
import type { Locale } from '../ports/translator.js';
import type { Clock } from '../ports/clock.js';
import { createPeopleService } from './people.service.js';
import { createAreaService } from './area.service.js';
import { createGroupService } from './group.service.js';
import { createMediaService } from './media.service.js';
import { createConversationService, createProcessedUpdates } from './conversation.service.js';

export interface ServiceDeps {
  db: Db;
  defaultLocale: Locale;
  clock: Clock;
}

/** Every domain service, built once in the composition root and handed to flows. */
export function createServices(deps: ServiceDeps) {
  return {
    people: createPeopleService(deps.db, deps.defaultLocale),
    areas: createAreaService(deps.db),
    groups: createGroupService(deps.db),
    conversations: createConversationService(deps.db),
    processedUpdates: createProcessedUpdates(deps.db),
    media: createMediaService(deps.db),
  };
}

export type Services = ReturnType<typeof createServices>;
