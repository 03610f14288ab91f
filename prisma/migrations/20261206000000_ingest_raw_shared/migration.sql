-- The raw-index source's shared mode (src/modules/ingest/raw-shared.source.ts): one process reads a shared index
-- pattern once and routes each document to the service its host is mapped to (admin raw-host).
CREATE TABLE "ingest_raw_host" (
    "index_pattern" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "service_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_raw_host_pkey" PRIMARY KEY ("index_pattern","host")
);

-- How far a shared pattern has been read, whichever service each document belonged to.
CREATE TABLE "ingest_raw_pattern_checkpoint" (
    "index_pattern" TEXT NOT NULL,
    "after" JSONB NOT NULL,
    "documents" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_raw_pattern_checkpoint_pkey" PRIMARY KEY ("index_pattern")
);

CREATE INDEX "ingest_raw_host_service_id_idx" ON "ingest_raw_host"("service_id");

ALTER TABLE "ingest_raw_host" ADD CONSTRAINT "ingest_raw_host_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
