-- AlterTable
ALTER TABLE "Person" ADD COLUMN     "monthlyAccountOff" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "Poll" (
    "id" TEXT NOT NULL,
    "creatorId" TEXT,
    "question" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "options" TEXT NOT NULL DEFAULT '[]',
    "anonymous" BOOLEAN NOT NULL DEFAULT true,
    "closesAt" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3),
    "draftKey" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Poll_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PollGroup" (
    "pollId" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,

    CONSTRAINT "PollGroup_pkey" PRIMARY KEY ("pollId","groupId")
);

-- CreateTable
CREATE TABLE "PollAnswer" (
    "id" TEXT NOT NULL,
    "pollId" TEXT NOT NULL,
    "personId" TEXT,
    "choices" TEXT NOT NULL DEFAULT '[]',
    "text" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PollAnswer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MonthlyAccount" (
    "personId" TEXT NOT NULL,
    "month" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MonthlyAccount_pkey" PRIMARY KEY ("personId","month")
);

-- CreateTable
CREATE TABLE "Mediator" (
    "groupId" TEXT NOT NULL,
    "personId" TEXT NOT NULL,
    "lead" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Mediator_pkey" PRIMARY KEY ("groupId","personId")
);

-- CreateTable
CREATE TABLE "Mediation" (
    "id" TEXT NOT NULL,
    "ref" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,
    "requesterId" TEXT,
    "otherPartyId" TEXT,
    "otherDescription" TEXT,
    "inviteCodeHash" TEXT,
    "inviteExpiresAt" TIMESTAMP(3),
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
    "concludedAt" TIMESTAMP(3),
    "followUpAt" TIMESTAMP(3),
    "requesterHolds" BOOLEAN,
    "otherHolds" BOOLEAN,
    "draftKey" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Mediation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Forum" (
    "id" TEXT NOT NULL,
    "creatorId" TEXT,
    "topic" TEXT NOT NULL,
    "closesAt" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3),
    "summary" TEXT,
    "draftKey" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Forum_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ForumGroup" (
    "forumId" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,

    CONSTRAINT "ForumGroup_pkey" PRIMARY KEY ("forumId","groupId")
);

-- CreateTable
CREATE TABLE "ForumOpinion" (
    "id" TEXT NOT NULL,
    "forumId" TEXT NOT NULL,
    "personId" TEXT,
    "anonymous" BOOLEAN NOT NULL DEFAULT true,
    "text" TEXT NOT NULL,
    "answer" TEXT,
    "answeredAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ForumOpinion_pkey" PRIMARY KEY ("id")
);

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

-- AddForeignKey
ALTER TABLE "Poll" ADD CONSTRAINT "Poll_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "Person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PollGroup" ADD CONSTRAINT "PollGroup_pollId_fkey" FOREIGN KEY ("pollId") REFERENCES "Poll"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PollGroup" ADD CONSTRAINT "PollGroup_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PollAnswer" ADD CONSTRAINT "PollAnswer_pollId_fkey" FOREIGN KEY ("pollId") REFERENCES "Poll"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PollAnswer" ADD CONSTRAINT "PollAnswer_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MonthlyAccount" ADD CONSTRAINT "MonthlyAccount_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mediator" ADD CONSTRAINT "Mediator_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mediator" ADD CONSTRAINT "Mediator_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mediation" ADD CONSTRAINT "Mediation_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mediation" ADD CONSTRAINT "Mediation_requesterId_fkey" FOREIGN KEY ("requesterId") REFERENCES "Person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mediation" ADD CONSTRAINT "Mediation_otherPartyId_fkey" FOREIGN KEY ("otherPartyId") REFERENCES "Person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mediation" ADD CONSTRAINT "Mediation_mediatorId_fkey" FOREIGN KEY ("mediatorId") REFERENCES "Person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Forum" ADD CONSTRAINT "Forum_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "Person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ForumGroup" ADD CONSTRAINT "ForumGroup_forumId_fkey" FOREIGN KEY ("forumId") REFERENCES "Forum"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ForumGroup" ADD CONSTRAINT "ForumGroup_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "Group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ForumOpinion" ADD CONSTRAINT "ForumOpinion_forumId_fkey" FOREIGN KEY ("forumId") REFERENCES "Forum"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ForumOpinion" ADD CONSTRAINT "ForumOpinion_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

