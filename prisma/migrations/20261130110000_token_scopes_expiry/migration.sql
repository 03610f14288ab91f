-- Tokens get scopes and an expiry (issue 10, tokens).
-- Existing tokens keep everything they could do: every scope, no expiry. The default serves only
-- those rows and is dropped: a new token always names its scopes.
ALTER TABLE "api_token" ADD COLUMN "scopes" TEXT[] NOT NULL DEFAULT ARRAY['read:events', 'read:policy', 'write:policy']::TEXT[];
ALTER TABLE "api_token" ALTER COLUMN "scopes" DROP DEFAULT;
ALTER TABLE "api_token" ADD COLUMN "expires_at" TIMESTAMPTZ(3);
