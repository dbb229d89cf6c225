/** The Relay `Node` interface and `PageInfo`, shared by every paged, refetchable type. */
import { Field, ID, InterfaceType, ObjectType } from 'type-graphql';

@InterfaceType({ description: 'An object with a global id, refetchable through node(id:)' })
export abstract class Node {
  @Field(() => ID, { description: 'Opaque global id' })
  id!: string;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field() hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}
