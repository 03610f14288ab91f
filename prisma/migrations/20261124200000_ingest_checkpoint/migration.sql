-- CreateTable
CREATE TABLE "ingest_checkpoint" (
    "service_id" UUID NOT NULL,
    "file_name" TEXT NOT NULL,
    "file_identity" TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    "events" BIGINT NOT NULL DEFAULT 0,
    "malformed" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_checkpoint_pkey" PRIMARY KEY ("service_id","file_name")
);

-- AddForeignKey
ALTER TABLE "ingest_checkpoint" ADD CONSTRAINT "ingest_checkpoint_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
