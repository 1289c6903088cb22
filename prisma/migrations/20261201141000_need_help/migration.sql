-- AlterTable
ALTER TABLE "Case" ADD COLUMN "helpKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Case_helpKey_key" ON "Case"("helpKey");
