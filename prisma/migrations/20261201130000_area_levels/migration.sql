-- AlterTable
ALTER TABLE "Area" ADD COLUMN "levelName" TEXT;
ALTER TABLE "Area" ADD COLUMN "policeUnit" TEXT;

-- AlterTable
ALTER TABLE "Case" ADD COLUMN "handlingAreaId" TEXT;
ALTER TABLE "Case" ADD COLUMN "overdueAt" DATETIME;

-- Levels are data now: an existing tree keeps its police at every level it had
-- ("Công an phường Kim Mã", "Công an quận Ba Đình", "Công an thành phố Hà Nội").
UPDATE "Area" SET "levelName" = CASE "level" WHEN 'province' THEN 'tỉnh/thành phố' WHEN 'district' THEN 'quận/huyện' WHEN 'ward' THEN 'xã/phường' ELSE NULL END
WHERE "levelName" IS NULL;
UPDATE "Area" SET "policeUnit" = 'Công an ' || lower(substr("name", 1, 1)) || substr("name", 2)
WHERE "policeUnit" IS NULL AND "level" IN ('province', 'district', 'ward');

-- Cases at the old fixed levels: 'ward' is the police of the case's own area (its ward),
-- 'district' the police of the area above it.
UPDATE "Case" SET "level" = 'area', "handlingAreaId" = "areaId" WHERE "level" = 'ward';
UPDATE "Case" SET "level" = 'area', "handlingAreaId" = COALESCE((SELECT a."parentId" FROM "Area" a WHERE a."id" = "Case"."areaId"), "areaId") WHERE "level" = 'district';
