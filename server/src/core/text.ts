/**
 * Text from clients. Limits count Unicode code points, what PostgreSQL's `char_length` counts
 * and what a person means by "characters" far more often than UTF-16 units (an emoji is two of
 * those). Not graphemes: one grapheme can hold any number of code points (combining marks,
 * joiners), so a limit in graphemes would not bound what is stored.
 *
 * A lone surrogate (half of a UTF-16 pair, which JSON's `\uD800` can carry) is no character at
 * all: it would be echoed back as sent but stored, and read back, as U+FFFD. Every string in an
 * operation's variables is checked once, before execution, over HTTP and WebSocket alike; the
 * document itself cannot hold one (graphql's lexer refuses it).
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The length of `text` in code points. */
export function codePoints(text: string): number {
  // Without surrogates every unit is a code point.
  if (!/[\uD800-\uDFFF]/.test(text)) return text.length;
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** `text` cut to at most `max` code points, never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (codePoints(text) <= max) return text;
  return Array.from(text).slice(0, max).join('');
}

/** Where in `variables` a string holds a lone surrogate (`$input.tasks[0].name`), or null. */
function loneSurrogatePath(variables: Record<string, unknown>): string | null {
  // A stack rather than recursion: variables over WebSocket are nested as deep as a client likes.
  const stack: Array<[unknown, string]> = Object.entries(variables).map(([name, value]) => [value, `$${name}`]);
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return path;
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) stack.push([item, `${path}.${key}`]);
    }
  }
  return null;
}

/** BAD_USER_INPUT naming the first variable that holds text which is not well-formed Unicode; else null. */
export function malformedText(variables: Record<string, unknown> | null | undefined): GraphQLError | null {
  const path = variables ? loneSurrogatePath(variables) : null;
  if (!path) return null;
  return new GraphQLError(`${path} contains a lone surrogate (half of a UTF-16 pair): text must be well-formed Unicode`, {
    extensions: { code: 'BAD_USER_INPUT', field: path, http: { status: 400 } },
  });
}

/** Applies `malformedText` to every HTTP operation (WebSocket ones: live/ws/protocol.ts). */
export function wellFormedTextPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          const error = malformedText(request.variables);
          if (error) throw error;
        },
      };
    },
  };
}
