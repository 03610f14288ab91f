-- Each revision carries a hash over its content and the previous revision's hash (a chain per policy).
-- Filled for existing rows by the application's data step before 20261130130001_revision_hash_required.
ALTER TABLE "audit_policy_revision" ADD COLUMN "content_hash" TEXT;
ALTER TABLE "audit_policy_revision" ADD COLUMN "prev_hash" TEXT;
