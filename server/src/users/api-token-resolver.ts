/** GraphQL surface of API tokens. */
import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { MaxItems } from '../graphql/query-limits.js';
import * as tokens from './api-tokens.js';
import { ApiTokenInfo } from './entity.js';

@Resolver(() => ApiTokenInfo)
export class ApiTokenResolver {
  @FieldResolver(() => ID)
  id(@Root() token: ApiTokenInfo): string {
    return toGlobalId('ApiToken', token.id);
  }

  @Query(() => [ApiTokenInfo], { description: `the viewer's API tokens that are not revoked (at most ${tokens.MAX_API_TOKENS}), without their secrets` })
  @MaxItems(tokens.MAX_API_TOKENS)
  apiTokens(@Ctx() ctx: Context): Promise<ApiTokenInfo[]> {
    return tokens.listApiTokens(ctx);
  }

  @Mutation(() => String, { description: 'returns the token once; only its hash is stored' })
  createApiToken(
    @Arg('name') name: string,
    @Ctx() ctx: Context,
    @Arg('expiresAt', () => Date, { nullable: true, description: 'unset: it never expires' }) expiresAt?: Date | null,
  ): Promise<string> {
    return tokens.createApiToken(ctx, name, expiresAt);
  }

  @Mutation(() => Boolean, { description: "revokes one of the viewer's API tokens: requests carrying it are refused from then on" })
  async revokeApiToken(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    await tokens.revokeApiToken(ctx, idOf('ApiToken', id));
    return true;
  }
}
