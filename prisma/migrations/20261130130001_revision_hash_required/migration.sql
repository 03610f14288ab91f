-- Revision hash chain, step 2 of 2: every revision has its hashes.
-- `pg-audit-gateway migrate` hashes every existing revision just before this file runs, per policy in version
-- order, in the same transaction (src/modules/audit-policy/history-chain.migration.ts). A runner that cannot
-- (e.g. `prisma migrate deploy`) stops here with the error below and loses nothing: run `pg-audit-gateway migrate`.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM "audit_policy_revision" WHERE "content_hash" IS NULL OR "prev_hash" IS NULL) THEN
        RAISE EXCEPTION 'audit policy revisions have no hashes yet: run `pg-audit-gateway migrate`, which hashes them first';
    END IF;
END $$;

ALTER TABLE "audit_policy_revision"
    ALTER COLUMN "content_hash" SET NOT NULL,
    ALTER COLUMN "prev_hash" SET NOT NULL;
