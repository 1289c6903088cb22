-- CreateTable
CREATE TABLE "Poll" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "creatorId" TEXT,
    "question" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "options" TEXT NOT NULL DEFAULT '[]',
    "anonymous" BOOLEAN NOT NULL DEFAULT true,
    "closesAt" DATETIME NOT NULL,
    "closedAt" DATETIME,
    "draftKey" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Poll_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "Person" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PollGroup" (
    "pollId" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,

    PRIMARY KEY ("pollId", "groupId"),
    CONSTRAINT "PollGroup_pollId_fkey" FOREIGN KEY ("pollId") REFERENCES "Poll" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "PollGroup_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PollAnswer" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "pollId" TEXT NOT NULL,
    "personId" TEXT,
    "choices" TEXT NOT NULL DEFAULT '[]',
    "text" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "PollAnswer_pollId_fkey" FOREIGN KEY ("pollId") REFERENCES "Poll" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "PollAnswer_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MonthlyAccount" (
    "personId" TEXT NOT NULL,
    "month" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("personId", "month"),
    CONSTRAINT "MonthlyAccount_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Mediator" (
    "groupId" TEXT NOT NULL,
    "personId" TEXT NOT NULL,
    "lead" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("groupId", "personId"),
    CONSTRAINT "Mediator_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Mediator_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Mediation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "ref" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,
    "requesterId" TEXT,
    "otherPartyId" TEXT,
    "otherDescription" TEXT,
    "inviteCodeHash" TEXT,
    "inviteExpiresAt" DATETIME,
    "subject" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'new',
    "otherConsent" BOOLEAN,
    "mediatorId" TEXT,
    "sessionAt" TEXT,
    "requesterAnswer" TEXT,
    "otherAnswer" TEXT,
    "outcome" TEXT,
    "agreement" TEXT,
    "referredCaseId" TEXT,
    "concludedAt" DATETIME,
    "followUpAt" DATETIME,
    "requesterHolds" BOOLEAN,
    "otherHolds" BOOLEAN,
    "draftKey" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Mediation_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Mediation_requesterId_fkey" FOREIGN KEY ("requesterId") REFERENCES "Person" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Mediation_otherPartyId_fkey" FOREIGN KEY ("otherPartyId") REFERENCES "Person" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Mediation_mediatorId_fkey" FOREIGN KEY ("mediatorId") REFERENCES "Person" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Forum" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "creatorId" TEXT,
    "topic" TEXT NOT NULL,
    "closesAt" DATETIME NOT NULL,
    "closedAt" DATETIME,
    "summary" TEXT,
    "draftKey" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Forum_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "Person" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ForumGroup" (
    "forumId" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,

    PRIMARY KEY ("forumId", "groupId"),
    CONSTRAINT "ForumGroup_forumId_fkey" FOREIGN KEY ("forumId") REFERENCES "Forum" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ForumGroup_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ForumOpinion" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "forumId" TEXT NOT NULL,
    "personId" TEXT,
    "anonymous" BOOLEAN NOT NULL DEFAULT true,
    "text" TEXT NOT NULL,
    "answer" TEXT,
    "answeredAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ForumOpinion_forumId_fkey" FOREIGN KEY ("forumId") REFERENCES "Forum" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ForumOpinion_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- AlterTable
ALTER TABLE "Person" ADD COLUMN "monthlyAccountOff" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE UNIQUE INDEX "Poll_draftKey_key" ON "Poll"("draftKey");

-- CreateIndex
CREATE INDEX "Poll_closedAt_closesAt_idx" ON "Poll"("closedAt", "closesAt");

-- CreateIndex
CREATE INDEX "PollGroup_groupId_idx" ON "PollGroup"("groupId");

-- CreateIndex
CREATE UNIQUE INDEX "PollAnswer_pollId_personId_key" ON "PollAnswer"("pollId", "personId");

-- CreateIndex
CREATE INDEX "Mediator_personId_idx" ON "Mediator"("personId");

-- CreateIndex
CREATE UNIQUE INDEX "Mediation_ref_key" ON "Mediation"("ref");

-- CreateIndex
CREATE UNIQUE INDEX "Mediation_inviteCodeHash_key" ON "Mediation"("inviteCodeHash");

-- CreateIndex
CREATE UNIQUE INDEX "Mediation_draftKey_key" ON "Mediation"("draftKey");

-- CreateIndex
CREATE INDEX "Mediation_groupId_status_idx" ON "Mediation"("groupId", "status");

-- CreateIndex
CREATE INDEX "Mediation_followUpAt_idx" ON "Mediation"("followUpAt");

-- CreateIndex
CREATE UNIQUE INDEX "Forum_draftKey_key" ON "Forum"("draftKey");

-- CreateIndex
CREATE INDEX "ForumGroup_groupId_idx" ON "ForumGroup"("groupId");

-- CreateIndex
CREATE INDEX "ForumOpinion_forumId_idx" ON "ForumOpinion"("forumId");

