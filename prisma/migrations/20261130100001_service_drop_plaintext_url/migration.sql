-- Service connection URLs encrypted at rest, step 2 of 2: no plaintext URL is kept.
-- `pg-audit-gateway migrate` seals every plaintext row just before this file runs, in the same transaction
-- (src/modules/tenancy/credential.migration.ts). A runner that cannot (e.g. `prisma migrate deploy`, or no
-- CREDENTIALS_MASTER_KEYS) stops here with the error below and loses nothing: run `pg-audit-gateway migrate`.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM "service" WHERE "connection_url" IS NOT NULL
               OR "credential_ciphertext" IS NULL OR "credential_nonce" IS NULL OR "credential_wrapped_key" IS NULL
               OR "credential_key_nonce" IS NULL OR "credential_key_version" IS NULL) THEN
        RAISE EXCEPTION 'service rows still hold plaintext connection URLs: run `pg-audit-gateway migrate` with CREDENTIALS_MASTER_KEYS set, which encrypts them first';
    END IF;
END $$;

ALTER TABLE "service"
    DROP COLUMN "connection_url",
    ALTER COLUMN "credential_ciphertext" SET NOT NULL,
    ALTER COLUMN "credential_nonce" SET NOT NULL,
    ALTER COLUMN "credential_wrapped_key" SET NOT NULL,
    ALTER COLUMN "credential_key_nonce" SET NOT NULL,
    ALTER COLUMN "credential_key_version" SET NOT NULL;
