-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Media" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "mime" TEXT NOT NULL,
    "bytes" BLOB,
    "size" INTEGER,
    "path" TEXT,
    "ownerPersonId" TEXT,
    "linkKey" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_Media" ("bytes", "createdAt", "id", "mime") SELECT "bytes", "createdAt", "id", "mime" FROM "Media";
DROP TABLE "Media";
ALTER TABLE "new_Media" RENAME TO "Media";
CREATE INDEX "Media_ownerPersonId_idx" ON "Media"("ownerPersonId");
CREATE INDEX "Media_createdAt_idx" ON "Media"("createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
