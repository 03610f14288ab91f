-- Fleet mode (src/modules/ingest/fleet.follower.ts): which ingester process follows which service's log
-- directory. A lease is held until it expires unless its holder renews it; an expired one may be taken.
CREATE TABLE "ingest_lease" (
    "service_id" UUID NOT NULL,
    "holder" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ingest_lease_pkey" PRIMARY KEY ("service_id")
);

-- The fleet's members, each renewing its own row while it runs: how many share the services.
CREATE TABLE "ingest_holder" (
    "holder" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ingest_holder_pkey" PRIMARY KEY ("holder")
);

CREATE INDEX "ingest_lease_holder_idx" ON "ingest_lease"("holder");

ALTER TABLE "ingest_lease" ADD CONSTRAINT "ingest_lease_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
