-- Service connection URLs encrypted at rest (issue 10, item 5), step 1 of 2.
-- The sealed credential: the URL encrypted (AES-256-GCM) under a data key of its own, bound to the service's
-- id; the data key wrapped (AES-256-GCM) under the master key of credential_key_version
-- (CREDENTIALS_MASTER_KEYS). SQL cannot encrypt with the application's key, so this step only adds the
-- columns and lets connection_url be NULL. `pg-audit-gateway migrate` (and `serve`, which migrates) then
-- seals every row that still holds a plaintext URL, in the transaction of step 2, which drops the column.
ALTER TABLE "service"
    ADD COLUMN "credential_ciphertext" BYTEA,
    ADD COLUMN "credential_nonce" BYTEA,
    ADD COLUMN "credential_wrapped_key" BYTEA,
    ADD COLUMN "credential_key_nonce" BYTEA,
    ADD COLUMN "credential_key_version" INTEGER,
    ALTER COLUMN "connection_url" DROP NOT NULL;
