-- Object audit (pgaudit.role and the auditor role's grants) is a facet of a database's policy row:
-- the last applied object-audit state on the policy, and the state a revision read back (NULL: the
-- revision is not about object audit; the hash chain covers it only when non-null).
ALTER TABLE "audit_policy" ADD COLUMN "objects" JSONB;
ALTER TABLE "audit_policy_revision" ADD COLUMN "objects" JSONB;
