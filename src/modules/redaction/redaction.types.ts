/** GraphQL types of redaction rules: inputs, outputs, the pattern enum (from PATTERNS) and the error codes. */
import { ArrayMaxSize, IsOptional, Matches, MaxLength, Min } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { enumOf } from '../../base/graphql-enum';
import { PageInfo } from '../../base/relay';
import { PATTERN_NAMES, PATTERNS, PatternName } from './pattern.detectors';
import { RedactionErrorCode } from './redaction.errors';

export const RedactionPatternEnum = enumOf(PATTERN_NAMES);
registerEnumType(RedactionPatternEnum, { name: 'RedactionPattern', description: 'A built-in detector of one kind of secret (no custom patterns: see README, Redaction at ingest).',
  valuesConfig: Object.fromEntries(PATTERN_NAMES.map((p) => [p, { description: PATTERNS[p].description }])) });
registerEnumType(RedactionErrorCode, { name: 'RedactionErrorCode', description: 'Why setRedactionRules was refused.',
  valuesConfig: {
    INVALID_RULES: { description: 'The rules break a rule of their own (a pattern named twice, ...); field names which.' },
    VERSION_CONFLICT: { description: 'expectedVersion is not the rules\' current version.' },
    RULES_UNREADABLE: { description: 'The stored rules were written by a newer version of the gateway (never returned as a userError).' },
  } });

@ObjectType({ description: 'What the ingester takes out of a service\'s events and dead letters before anything is indexed.' })
export class RedactionRules {
  @Field({ description: 'Parameters (pgaudit.log_parameter) are not stored: `parameters` is null and `redaction.parametersDropped` true.' })
  dropParameters!: boolean;
  @Field({ description: 'String literals of statements (\'...\', E\'...\', U&\'...\', N\'...\', B\'...\', X\'...\') become \'***\'; dollar-quoted bodies ($$...$$, $tag$...$tag$) become ***.' })
  maskStringLiterals!: boolean;
  @Field({ description: 'Numeric literals of statements (42, 3.14, .5, 1e10, 0x1F) become ***.' })
  maskNumericLiterals!: boolean;
  @Field(() => [RedactionPatternEnum], { description: 'Detectors run over statements (after literal masking), kept parameters and dead letters; a match becomes [REDACTED:PATTERN].' })
  patterns!: PatternName[];
}

@InputType({ description: 'A whole rule set: every field is required (the rules are replaced, not patched).' })
export class RedactionRulesInput {
  @Field({ description: 'Drop parameters.' })
  dropParameters!: boolean;
  @Field({ description: 'Mask string literals (and dollar-quoted bodies) of statements.' })
  maskStringLiterals!: boolean;
  @Field({ description: 'Mask numeric literals of statements.' })
  maskNumericLiterals!: boolean;
  @Field(() => [RedactionPatternEnum], { description: 'Detectors to run, each at most once (at most one of each; empty: none).' })
  @ArrayMaxSize(PATTERN_NAMES.length)
  patterns!: PatternName[];
}

@InputType({ description: 'Replace a service\'s redaction rules. The ingester applies them to what it reads from then on (within its refresh interval); events already indexed are not rewritten.' })
export class SetRedactionRulesInput {
  @Field(() => ID, { description: 'The PostgreSQL service.' })
  serviceId!: string;
  @Field(() => RedactionRulesInput, { description: 'The new rules, whole.' })
  rules!: RedactionRulesInput;
  @Field(() => String, { nullable: true, description: 'Why, recorded in the history (at most 2000 characters).' })
  @IsOptional() @MaxLength(2000) @Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL characters' })
  reason?: string | null;
  @Field(() => Int, { nullable: true, description: 'Optimistic concurrency: refused with VERSION_CONFLICT unless the rules are at this version (0 before the first change).' })
  @IsOptional() @Min(0)
  expectedVersion?: number | null;
}

@ObjectType({ description: 'One rule that changed in a revision.' })
export class RedactionRuleChange {
  @Field({ description: 'dropParameters, maskStringLiterals, maskNumericLiterals or patterns.' })
  rule!: string;
  @Field({ description: 'The value before: true/false, or the patterns comma-separated ("" for none).' })
  from!: string;
  @Field({ description: 'The value after, written the same way.' })
  to!: string;
}

@ObjectType({ description: 'One change of a service\'s redaction rules. Append-only.' })
export class RedactionRulesRevision {
  @Field(() => ID, { description: 'Revision id.' })
  id!: string;
  @Field(() => Int, { description: 'The version this revision created (1, 2, ...); events redacted under it carry it in redaction.rulesVersion.' })
  version!: number;
  @Field({ description: 'Who made the change: the API token and the database role it acts as.' })
  actor!: string;
  @Field(() => String, { nullable: true, description: 'Why, as given by the caller.' })
  reason!: string | null;
  @Field({ description: 'When the change was committed.' })
  createdAt!: Date;
  @Field(() => RedactionRules, { description: 'The rules after the change.' })
  rules!: RedactionRules;
  @Field(() => [RedactionRuleChange], { description: 'What changed, rule by rule.' })
  changes!: RedactionRuleChange[];
}

@ObjectType({ description: 'An edge of RedactionRulesRevisionConnection.' })
export class RedactionRulesRevisionEdge {
  @Field({ description: 'Opaque cursor of this revision.' })
  cursor!: string;
  @Field(() => RedactionRulesRevision, { description: 'The revision.' })
  node!: RedactionRulesRevision;
}

@ObjectType({ description: 'Revisions of a service\'s redaction rules, newest first.' })
export class RedactionRulesRevisionConnection {
  @Field(() => [RedactionRulesRevisionEdge], { description: 'This page of revisions.' })
  edges!: RedactionRulesRevisionEdge[];
  @Field(() => PageInfo, { description: 'Paging information.' })
  pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Number of revisions in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'A service\'s redaction rules now.' })
export class RedactionRuleSet {
  @Field(() => ID, { description: 'The PostgreSQL service.' })
  serviceId!: string;
  @Field(() => Int, { description: 'Increases with every revision (0: never set); pass it as expectedVersion.' })
  version!: number;
  @Field(() => RedactionRules, { description: 'The rules in effect (all off at version 0).' })
  rules!: RedactionRules;
  @Field(() => Date, { nullable: true, description: 'When the last revision was committed; null at version 0.' })
  updatedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Who made the last revision; null at version 0.' })
  updatedBy!: string | null;
}

@ObjectType({ description: 'Why setRedactionRules did not do what was asked.' })
export class RedactionUserError {
  @Field(() => RedactionErrorCode, { description: 'Machine-readable reason.' })
  code!: RedactionErrorCode;
  @Field({ description: 'Human-readable explanation.' })
  message!: string;
  @Field(() => [String], { nullable: true, description: 'Path to the input field at fault, e.g. ["input", "rules", "patterns"].' })
  field!: string[] | null;
}

@ObjectType({ description: 'Result of setRedactionRules.' })
export class SetRedactionRulesPayload {
  @Field(() => RedactionRuleSet, { nullable: true, description: 'The rules after the call (null if refused).' })
  ruleSet!: RedactionRuleSet | null;
  @Field(() => RedactionRulesRevision, { nullable: true, description: 'The revision this call created (null if refused, or if the rules were already these).' })
  revision!: RedactionRulesRevision | null;
  @Field(() => [RedactionUserError], { description: 'Why the call was refused; empty on success.' })
  userErrors!: RedactionUserError[];
}
