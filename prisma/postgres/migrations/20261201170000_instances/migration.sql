-- Several instances on one database: the update's log id on its deliveries, the instance that
-- claimed a row, and leases (one sender per bot token, one runner of the timers).
-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "claimedBy" TEXT,
ADD COLUMN     "traceId" TEXT;

-- CreateTable
CREATE TABLE "Lease" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Lease_pkey" PRIMARY KEY ("name")
);

