-- Several instances on one database: the update's log id on its deliveries, the instance that
-- claimed a row, and leases (one sender per bot token, one runner of the timers).
-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN "claimedBy" TEXT;
ALTER TABLE "Delivery" ADD COLUMN "traceId" TEXT;

-- CreateTable
CREATE TABLE "Lease" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

