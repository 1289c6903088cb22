-- AlterTable
ALTER TABLE "Alert" ADD COLUMN "draftKey" TEXT;

-- AlterTable
ALTER TABLE "Case" ADD COLUMN "draftKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Alert_draftKey_key" ON "Alert"("draftKey");

-- CreateIndex
CREATE UNIQUE INDEX "Case_draftKey_key" ON "Case"("draftKey");
