import type { Logger } from '@ticketing/common/runtime';
import type { MetricsEndpoint } from './config.js';
import type { PropagationView } from './pages.js';

/** The most of a metrics page read: a service's whole page is a few kB. */
const MAX_METRICS_BYTES = 1024 * 1024;

/** The values of a metric in Prometheus' text format, one per series (labels or none). */
export function metricValues(text: string, name: string): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    const match = /^(?:\{[^}]*\})? (\S+)/.exec(rest);
    if (match === null) continue;
    const value = Number(match[1]);
    if (Number.isFinite(value)) values.push(value);
  }
  return values;
}

/** How the last ban event reached a service, from its metrics page. */
export function propagationOf(name: string, text: string): PropagationView {
  const applied = metricValues(text, 'ban_events_applied_total').reduce((sum, value) => sum + value, 0);
  const [lag] = metricValues(text, 'ban_sync_last_event_lag_seconds');
  const [caughtUp] = metricValues(text, 'ban_sync_caught_up');
  if (lag === undefined) return { name, unavailable: 'no ban sync metrics' };
  return { name, lagSeconds: applied === 0 ? undefined : lag, caughtUp: caughtUp === undefined ? undefined : caughtUp === 1 };
}

/** Reads every endpoint at once; one that does not answer in time shows as unavailable, and the page still renders. */
export async function readPropagation(endpoints: readonly MetricsEndpoint[], options: { timeoutMs: number; logger: Logger }): Promise<PropagationView[]> {
  return Promise.all(endpoints.map(async ({ name, url }): Promise<PropagationView> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), redirect: 'error' });
      if (!response.ok) return { name, unavailable: `metrics answered ${response.status}` };
      const text = await response.text();
      if (text.length > MAX_METRICS_BYTES) return { name, unavailable: 'metrics too large' };
      return propagationOf(name, text);
    } catch (err) {
      options.logger.warn({ endpoint: name, err }, 'a metrics endpoint did not answer');
      return { name, unavailable: 'metrics unavailable' };
    }
  }));
}
