-- AlterTable
ALTER TABLE "Media" ADD COLUMN     "linkKey" TEXT,
ADD COLUMN     "ownerPersonId" TEXT,
ADD COLUMN     "path" TEXT,
ADD COLUMN     "size" INTEGER,
ALTER COLUMN "bytes" DROP NOT NULL;

-- CreateIndex
CREATE INDEX "Media_ownerPersonId_idx" ON "Media"("ownerPersonId");

-- CreateIndex
CREATE INDEX "Media_createdAt_idx" ON "Media"("createdAt");
