/**
 * The dashboard's own errors, reported to Sentry when the server names a DSN
 * (SENTRY_DSN_BROWSER, read from /api/client-settings at start). The SDK is a chunk of its own,
 * loaded only then. Each event says the release (this build's version) and the route
 * (`/workflows/[id]`, never the URL with its ids and query); no user, no request, no
 * breadcrumbs, and the SDK's data collection off: nothing personal leaves the browser.
 */
import { version } from '$app/environment';

type Report = (error: unknown) => void;
let report: Report | null = null;

/** Reports an error the page caught itself (SvelteKit's handleError); nothing when reporting is off. */
export function reportError(error: unknown): void {
  report?.(error);
}

/** `route`: the route id of the page on screen, read when an error is sent. */
export async function startErrorReporting(route: () => string | null): Promise<void> {
  const response = await fetch('/api/client-settings').catch(() => null);
  const settings = response?.ok ? ((await response.json()) as { sentryDsn: string | null }) : null;
  if (!settings?.sentryDsn) return;
  const Sentry = await import('./sentry');
  Sentry.init({
    dsn: settings.sentryDsn,
    release: `workflow-factory-dashboard@${version}`,
    dataCollection: { userInfo: false, cookies: false, httpHeaders: false, httpBodies: [], urlQueryParams: false, graphQL: { document: false, variables: false } },
    sendClientReports: false,
    // Uncaught errors and rejections, with their causes; not the defaults' breadcrumbs (clicks,
    // console, fetches) nor the page's URL and headers.
    defaultIntegrations: false,
    integrations: [Sentry.globalHandlersIntegration(), Sentry.linkedErrorsIntegration(), Sentry.dedupeIntegration()],
    beforeBreadcrumb: () => null,
    beforeSend(event) {
      delete event.user;
      delete event.request;
      delete event.server_name;
      event.tags = { ...event.tags, route: route() ?? 'unknown' };
      return event;
    },
  });
  report = (error) => Sentry.captureException(error);
}
