-- The handler who took a case on ("taken on by me" in the console).
ALTER TABLE "Case" ADD COLUMN "assigneeId" TEXT;

-- CreateIndex
CREATE INDEX "Case_assigneeId_idx" ON "Case"("assigneeId");
