/** Users, their sign-in sessions and API tokens (tokens are only ever stored hashed), and the API token as the API shows it. */
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { Role } from '../core/viewer.js';
import { Node } from '../graphql/node.js';

export { Role };

@Entity({ tableName: 'users' })
@ObjectType({ implements: Node, simpleResolvers: true })
export class User {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ type: 'text', unique: true })
  @Field()
  email!: string;

  @Property({ type: 'text' })
  @Field()
  name!: string;

  @Property({ type: 'text' })
  @Field(() => Role)
  role!: Role;

  @Property({ type: 'text', hidden: true })
  passwordHash!: string;

  @Property({ type: 'Date', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}

/** What sessions and API tokens share: a user, a hashed secret, and its lifetime. */
abstract class Credential {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ type: 'uuid' })
  userId!: string;

  @Property({ type: 'text' })
  tokenHash!: string;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Property({ type: 'Date', nullable: true })
  lastUsedAt?: Date;

  @Property({ type: 'Date', nullable: true })
  revokedAt?: Date;
}

@Entity({ tableName: 'sessions' })
export class Session extends Credential {
  @Property({ type: 'Date' })
  expiresAt!: Date;
}

@Entity({ tableName: 'api_tokens' })
export class ApiToken extends Credential {
  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'Date', nullable: true })
  expiresAt?: Date;
}

@ObjectType('ApiToken', { description: "One of the viewer's API tokens; the secret itself is never shown again" })
export class ApiTokenInfo {
  /** the database id; the resolver shows it as a global id */
  id!: string;
  @Field() name!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'null: it never expires' }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'recorded at most once a minute' }) lastUsedAt!: Date | null;
}
