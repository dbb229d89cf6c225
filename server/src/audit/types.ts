/** GraphQL types of the audit log. */
import { JSONResolver } from 'graphql-scalars';
import { ArgsType, Field, ID, Int, ObjectType } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { Node, PageInfo } from '../graphql/node.js';
import { MaxItems } from '../graphql/query-limits.js';

@ObjectType({ implements: Node, description: 'One mutation that changed something: who, with what credential, from where, to what' })
export class AuditEntry extends Node {
  @Field() at!: Date;
  /** resolved by the resolver from `actorId` */
  actorId!: string | null;
  @Field(() => String, { nullable: true, description: 'the credential used: "session", or the name of the API token' }) credential!: string | null;
  @Field({ description: "the mutation's field name, e.g. cancelWorkflow" }) action!: string;
  @Field(() => ID, { nullable: true, description: 'the global id of what it changed, where there is one' }) targetId!: string | null;
  @Field(() => String, { nullable: true, description: "the client's address, as the trusted proxies tell it" }) ip!: string | null;
  @Field(() => JSONResolver, { nullable: true, description: 'the input, with secrets redacted and long values cut' }) details!: unknown;
}

@ObjectType()
export class AuditEntryEdge {
  @Field() cursor!: string;
  @Field(() => AuditEntry) node!: AuditEntry;
}

@ObjectType()
export class AuditEntryConnection {
  @Field(() => [AuditEntryEdge])
  @MaxItems(MAX_PAGE_SIZE)
  edges!: AuditEntryEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** null only when the query does not select it (then it is not counted) */
  @Field(() => Int) totalCount!: number | null;
}

@ArgsType()
export class AuditLogArgs {
  @Field(() => Int, { nullable: true, description: 'page size, 1 to 100; defaults to 20' }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
  @Field(() => ID, { nullable: true, description: 'only what this user did' }) actorId?: string | null;
  @Field(() => String, { nullable: true, description: 'only this mutation, e.g. deleteWorkflow' }) action?: string | null;
  @Field(() => ID, { nullable: true, description: 'only what changed this object' }) targetId?: string | null;
}
