/**
 * What `/status` and `/api/status` show: component names and states, daily uptime, incidents
 * and their updates, upcoming maintenance. Built from names, statuses, dates and what admins wrote for the public,
 * never from health details, replica ids, instances or user names: authors are left out, and
 * maintenance windows show their name and times, never their matchers.
 */
import type { AppServices } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import type { EntityManager } from '../db/orm.js';
import { currentComponents } from './components.js';
import { createStatusLoaders } from './loaders.js';
import { upcomingMaintenance } from './maintenance.js';
import { pageIncidents } from './service.js';
import { MAX_UPTIME_DAYS, type UptimeDay } from './types.js';

export interface PublicIncident {
  id: string;
  title: string;
  status: string;
  impact: string;
  components: string[];
  startedAt: string;
  resolvedAt: string | null;
  updates: Array<{ at: string; status: string; message: string }>;
}

export interface PublicStatus {
  /** up: all components up and nothing open; degraded: some component degraded or an incident open; down: a component is down */
  status: 'up' | 'degraded' | 'down';
  updatedAt: string;
  components: Array<{ name: string; status: string; uptimePercent: number | null; uptime: UptimeDay[] }>;
  incidents: PublicIncident[];
  /** open now or within 14 days, soonest first */
  maintenance: Array<{ name: string; startsAt: string; endsAt: string; active: boolean }>;
}

/** The mean of the days that have data, so days before the first sample do not count as down. */
function overall(days: UptimeDay[]): number | null {
  const measured = days.filter((day) => day.upPercent !== null).map((day) => day.upPercent as number);
  return measured.length ? measured.reduce((a, b) => a + b, 0) / measured.length : null;
}

export async function publicStatus(app: AppServices, now = new Date()): Promise<PublicStatus> {
  const em = app.orm.em.fork() as EntityManager;
  const [components, incidents, maintenance] = await Promise.all([currentComponents(app, now), pageIncidents(em), upcomingMaintenance(em, now)]);
  const [uptimes, updates] = await Promise.all([
    Promise.all(components.map((component) => component.history(MAX_UPTIME_DAYS))),
    createStatusLoaders(em).updatesByIncident.loadMany(incidents.map((incident) => incident.id)),
  ]);
  const open = incidents.some((incident) => !incident.resolvedAt);
  const down = components.some((component) => component.status === 'down');
  return {
    status: down ? 'down' : open || components.some((component) => component.status !== 'up') ? 'degraded' : 'up',
    updatedAt: now.toISOString(),
    components: components.map((component, i) => ({ name: component.name, status: component.status, uptimePercent: overall(uptimes[i]), uptime: uptimes[i] })),
    incidents: incidents.map((incident, i) => {
      const list = updates[i];
      if (list instanceof Error) throw list;
      return {
        id: toGlobalId('Incident', incident.id),
        title: incident.title,
        status: incident.status,
        impact: incident.impact,
        components: incident.components,
        startedAt: incident.startedAt.toISOString(),
        resolvedAt: incident.resolvedAt?.toISOString() ?? null,
        updates: list.map((update) => ({ at: update.at.toISOString(), status: update.status, message: update.message })),
      };
    }),
    maintenance: maintenance.map(({ window, startsAt, endsAt }) => ({
      name: window.name, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), active: window.activeNow,
    })),
  };
}
