/** What error-reporting.ts uses of the Sentry SDK, and only that: imported on its own, the chunk keeps none of the rest (replay, feedback, tracing). */
export { captureException, dedupeIntegration, globalHandlersIntegration, init, linkedErrorsIntegration } from '@sentry/browser';
