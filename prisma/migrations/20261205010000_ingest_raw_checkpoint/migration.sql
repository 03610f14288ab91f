-- The raw-index source (src/modules/ingest/raw-index.source.ts): how far each service's raw log documents of a
-- log integration's indices have been read, as the sort values of the last document every event before is indexed by.
CREATE TABLE "ingest_raw_checkpoint" (
    "service_id" UUID NOT NULL,
    "index_pattern" TEXT NOT NULL,
    "after" JSONB NOT NULL,
    "documents" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_raw_checkpoint_pkey" PRIMARY KEY ("service_id","index_pattern")
);

ALTER TABLE "ingest_raw_checkpoint" ADD CONSTRAINT "ingest_raw_checkpoint_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
