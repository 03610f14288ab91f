-- Redaction at ingest (src/modules/redaction): each service's current rules, and their append-only history.
CREATE TABLE "redaction_rules" (
    "service_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "rules" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "redaction_rules_pkey" PRIMARY KEY ("service_id")
);

-- One row per change, never updated or deleted.
CREATE TABLE "redaction_rules_revision" (
    "id" UUID NOT NULL,
    "service_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "actor" TEXT NOT NULL,
    "actor_token_id" UUID,
    "reason" TEXT,
    "rules" JSONB NOT NULL,
    "changes" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "redaction_rules_revision_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "redaction_rules_revision_service_id_version_key" ON "redaction_rules_revision"("service_id", "version");

ALTER TABLE "redaction_rules" ADD CONSTRAINT "redaction_rules_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "redaction_rules_revision" ADD CONSTRAINT "redaction_rules_revision_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "redaction_rules"("service_id") ON DELETE RESTRICT ON UPDATE CASCADE;
