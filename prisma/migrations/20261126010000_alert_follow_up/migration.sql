-- AlterTable
ALTER TABLE "Alert" ADD COLUMN "repingAt" DATETIME;
ALTER TABLE "Alert" ADD COLUMN "statusSnapshot" TEXT;

