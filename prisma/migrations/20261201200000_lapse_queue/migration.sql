-- The plan-lapse queue: when Pro Platform (organization) or Pro Features (project) is switched off, one job
-- per enabled policy is written in the same transaction as the flag, and worked (now by `admin set-plan`,
-- later by every `serve` replica) until the policy's audit logging is disabled on its server
-- (src/modules/audit-policy/README.md, "Audit logging is disabled when the plan lapses").
CREATE TABLE "policy_lapse_job" (
    "id" UUID NOT NULL,
    "policy_id" UUID NOT NULL,
    "policy_version" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_until" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "done_at" TIMESTAMPTZ(3),
    "outcome" TEXT,

    CONSTRAINT "policy_lapse_job_pkey" PRIMARY KEY ("id")
);

-- At most one open job per policy (a second lapse renews it).
CREATE UNIQUE INDEX "policy_lapse_job_open_key" ON "policy_lapse_job"("policy_id") WHERE "done_at" IS NULL;

-- What the workers claim: open jobs by due time.
CREATE INDEX "policy_lapse_job_due_idx" ON "policy_lapse_job"("next_attempt_at") WHERE "done_at" IS NULL;

ALTER TABLE "policy_lapse_job" ADD CONSTRAINT "policy_lapse_job_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "audit_policy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
