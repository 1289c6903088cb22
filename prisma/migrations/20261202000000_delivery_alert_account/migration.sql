-- A resident's answer finds their copy of an alert by alert and account: without the account in
-- the index, every answer read all of the alert's copies (10,000 rows for a 10,000-copy alert).
-- DropIndex
DROP INDEX "Delivery_alertId_idx";

-- CreateIndex
CREATE INDEX "Delivery_alertId_accountId_idx" ON "Delivery"("alertId", "accountId");
