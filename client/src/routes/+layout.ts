// The dashboard renders in the browser: the page shell is static and data comes over /graphql.
export const ssr = false;
export const prerender = false;
