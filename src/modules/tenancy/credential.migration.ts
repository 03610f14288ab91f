/**
 * The data step of encrypting service URLs at rest, which SQL cannot do (it has no key): run by the
 * migration runner inside the transaction of SEAL_BEFORE_MIGRATION, just before that migration drops the
 * plaintext `connection_url` column. Seals every row that still holds a plaintext URL under the current
 * master key and sets the plaintext to NULL. The whole step and the drop commit together or not at all.
 */
import type { ClientBase } from 'pg';
import type { MasterKeyring } from '../../base/crypto/master-keys';
import { CredentialVault } from './service-credential';

/** The migration that drops connection_url; this step runs first, in its transaction. */
export const SEAL_BEFORE_MIGRATION = '20261130100001_service_drop_plaintext_url';

/** Returns how many rows it sealed; refuses (changing nothing) when there is something to seal and no key. */
export async function sealPlaintextServiceUrls(client: ClientBase, keys: MasterKeyring | null): Promise<number> {
  const { rows } = await client.query<{ id: string; connection_url: string }>(
    `SELECT id::text AS id, connection_url FROM "service" WHERE connection_url IS NOT NULL ORDER BY id FOR UPDATE`);
  if (rows.length === 0) return 0;
  if (!keys) {
    throw new Error(`${rows.length} service(s) still hold a plaintext connection URL: set CREDENTIALS_MASTER_KEYS so that migrate can encrypt them`);
  }
  const vault = new CredentialVault(keys);
  for (const row of rows) {
    const c = vault.seal(row.id, row.connection_url);
    await client.query(
      `UPDATE "service" SET credential_ciphertext = $2, credential_nonce = $3, credential_wrapped_key = $4,
              credential_key_nonce = $5, credential_key_version = $6, connection_url = NULL
        WHERE id = $1`, [row.id, c.ciphertext, c.nonce, c.wrappedKey, c.keyNonce, c.keyVersion]);
  }
  return rows.length;
}
