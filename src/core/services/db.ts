/** The database handle the domain services write through (a Prisma client, typed only). */
export type { PrismaClient as Db } from '../../generated/prisma/client.js';
export type {
  Person,
  ChannelAccount,
  Area,
  Group,
  Membership,
} from '../../generated/prisma/client.js';
