/** The fields every pino line has, which the pretty line shows in its own places or leaves out. */
const OWN_PLACES = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname', 'audit', 'err']);

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Readonly<Record<number, string>> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };

/** `12:03:04.567` in local time. */
function clock(time: unknown): string {
  const date = new Date(typeof time === 'number' || typeof time === 'string' ? time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * Characters a terminal may act on rather than show: C0 and C1 controls (ESC, CSI, OSC, BEL, ...),
 * DEL, line and paragraph separators, and the bidirectional overrides that reorder what is shown.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const HAS_UNPRINTABLE = new RegExp(UNPRINTABLE.source);

/** `text` with every character a terminal could act on written as `\uXXXX`. */
function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `key=value`, quoting a value that has spaces, quotes, `=` or controls in it (or is not a plain value). */
function field(key: string, value: unknown): string {
  const name = printable(key);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return `${name}=${String(value)}`;
  if (typeof value === 'string' && /^[^\s"=]+$/.test(value) && !HAS_UNPRINTABLE.test(value)) return `${name}=${value}`;
  return `${name}=${printable(JSON.stringify(value) ?? String(value))}`;
}

/** An error as pino serialises it: its message on the line, its stack on the lines after. */
function errorParts(err: unknown): { inline: string; after: string } {
  if (typeof err !== 'object' || err === null) return { inline: err === undefined ? '' : field('err', err), after: '' };
  const { message, stack } = err as { message?: unknown; stack?: unknown };
  const inline = field('err', typeof message === 'string' ? message : err);
  const lines = typeof stack === 'string' ? stack.split('\n').slice(1) : [];
  return { inline, after: lines.map((line) => `\n    ${printable(line.trim())}`).join('') };
}

/**
 * One pino JSON line as a line people read: `12:03:04.567 INFO  auth  listening port=3000`, an
 * audit line marked `AUDIT <event>`, an error's stack indented below it. A line that is not JSON
 * is passed through as it is.
 */
export function prettyLine(json: string, options: { colour: boolean }): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const name = LEVELS[level] ?? String(level);
  const shownLevel = options.colour ? `\u001b[${COLOURS[level] ?? '0'}m${name.padEnd(5)}\u001b[0m` : name.padEnd(5);
  const audit = typeof entry.audit === 'string' ? ` AUDIT ${printable(entry.audit)}` : '';
  const err = errorParts(entry.err);
  const shown = new Set(OWN_PLACES);
  // A request line's message is `GET /api/orders/:id 200`: those three are not repeated, nor a path that is the route.
  if (entry.msg === `${String(entry.method)} ${String(entry.route)} ${String(entry.status)}`) {
    for (const key of ['method', 'route', 'status']) shown.add(key);
    if (entry.path === entry.route) shown.add('path');
  }
  const fields = Object.entries(entry).filter(([key]) => !shown.has(key)).map(([key, value]) => field(key, value));
  const rest = [err.inline, ...fields].filter((part) => part !== '').join(' ');
  const service = typeof entry.name === 'string' ? ` ${printable(entry.name)}` : '';
  return `${clock(entry.time)} ${shownLevel}${service}${audit} ${printable(String(entry.msg ?? ''))}${rest === '' ? '' : `  ${rest}`}${err.after}\n`;
}

/** A destination for pino that writes each line pretty to `out`. */
export function prettyDestination(out: { write(text: string): unknown }, options: { colour: boolean }): { write(line: string): void } {
  return {
    write(lines: string) {
      for (const line of lines.split('\n')) if (line !== '') out.write(prettyLine(line, options));
    },
  };
}
