-- Role scopes: a policy is keyed by service, database ('' = every database) and role ('' = every role):
-- ALTER ROLE r [IN DATABASE d] SET pgaudit.*.
ALTER TABLE "audit_policy" ADD COLUMN "role" TEXT NOT NULL DEFAULT '';
DROP INDEX "audit_policy_service_id_database_key";
CREATE UNIQUE INDEX "audit_policy_service_id_database_role_key" ON "audit_policy"("service_id", "database", "role");

-- pgaudit.targetDatabases of a service-level policy: the settings apply to exactly these databases (ALTER DATABASE
-- ... SET) and the service level keeps pgaudit's defaults. Empty = the whole service (ALTER SYSTEM): a list is
-- never empty (the API refuses []).
ALTER TABLE "audit_policy" ADD COLUMN "target_databases" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
-- What a revision left in force, as read back (NULL = the whole service, or a scope that has no such list).
ALTER TABLE "audit_policy_revision" ADD COLUMN "target_databases" JSONB;
