// Preloaded with `node --import`: writes every module URL the process loads to stdout, one a line,
// so a test can see what importing one of common's subpaths pulls in.
import { register } from 'node:module';

register(`data:text/javascript,${encodeURIComponent(`
import { writeSync } from 'node:fs';
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  writeSync(1, 'loaded ' + resolved.url + '\\n');
  return resolved;
}
`)}`);
