/** GraphQL surface of users, sign-in and tokens. */
import { Arg, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { Role } from '../core/viewer.js';
import { toGlobalId } from '../core/ids.js';
import { User } from './entity.js';
import * as users from './service.js';

@ObjectType()
class AuthPayload {
  @Field({ description: 'session token: send it as "Authorization: Bearer <token>"' }) token!: string;
  @Field(() => User) user!: User;
}

@Resolver(() => User)
export class UserResolver {
  @FieldResolver(() => ID)
  id(@Root() user: User): string {
    return toGlobalId('User', user.id);
  }

  @Query(() => User, { nullable: true, description: 'the signed-in user, or null' })
  viewer(@Ctx() ctx: Context): Promise<User | null> | null {
    return ctx.viewer ? ctx.loaders.userById.load(ctx.viewer.id) : null;
  }

  @Mutation(() => AuthPayload)
  login(@Arg('email') email: string, @Arg('password') password: string, @Ctx() ctx: Context): Promise<AuthPayload> {
    return users.login(ctx, email, password);
  }

  @Mutation(() => Boolean, { description: 'revokes the session or token this request came with' })
  signOut(@Ctx() ctx: Context): Promise<boolean> {
    return users.signOut(ctx);
  }

  @Mutation(() => User, { description: 'admin only' })
  createUser(
    @Arg('email') email: string,
    @Arg('name') name: string,
    @Arg('password') password: string,
    @Arg('role', () => Role) role: Role,
    @Ctx() ctx: Context,
  ): Promise<User> {
    return users.createUser(ctx, { email, name, password, role });
  }
}
