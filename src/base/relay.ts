/** Relay connection pieces shared by every list that can grow. */
import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { BaseError, BaseErrorCode } from './domain-error';

@ObjectType({ description: 'Relay page information.', simpleResolvers: true })   // plain data: graphql-js's own field resolver
export class PageInfo {
  @Field({ description: 'Whether more items follow this page.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of this page; pass it as `after` for the next page.' })
  endCursor!: string | null;
}

/** The arguments of a paged field: `first` 1 to 100 (default 20) and `after`, an endCursor of the previous page. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 20, description: 'Page size, 1 to 100.' })
  @Min(1) @Max(100)
  first!: number;
  @Field(() => String, { nullable: true, description: 'An endCursor from the previous page.' })
  @IsOptional() @MaxLength(100)
  after?: string | null;
}

/** Opaque cursors: base64url of `<kind>:<integer>`. A tampered or foreign cursor is INVALID_CURSOR (BAD_USER_INPUT to the caller). */
export function encodeCursor(kind: string, value: number): string {
  return Buffer.from(`${kind}:${value}`, 'utf8').toString('base64url');
}

export function decodeCursor(kind: string, cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = new RegExp(`^${kind}:(\\d{1,9})$`).exec(text);
  if (!match) throw new BaseError(BaseErrorCode.INVALID_CURSOR, 'invalid cursor: pass an endCursor returned by this field', { argument: 'after' });
  return Number(match[1]);
}

const UUID_TEXT = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * Opaque keyset cursors over a row id (a UUID): base64url of `<kind>:<uuid>`, for lists ordered by something
 * other than a number (the page continues after that row in the list's order). Same INVALID_CURSOR as decodeCursor.
 */
export function encodeIdCursor(kind: string, id: string): string {
  return Buffer.from(`${kind}:${id.toLowerCase()}`, 'utf8').toString('base64url');
}

export function decodeIdCursor(kind: string, cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = new RegExp(`^${kind}:(${UUID_TEXT})$`).exec(text);
  if (!match) throw new BaseError(BaseErrorCode.INVALID_CURSOR, 'invalid cursor: pass an endCursor returned by this field', { argument: 'after' });
  return match[1]!;
}
