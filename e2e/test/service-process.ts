import { createRequire } from 'node:module';
import { startServiceProcess, type ServiceProcess } from '@ticketing/testing';

export type { ServiceProcess };

const require = createRequire(import.meta.url);

/** The processes of the system: the two services and the web client in front of them. */
export type ServiceName = 'auth' | 'orders' | 'client';

/** The built entry point of a service (or of the client): its package's `main`. Run `npm run build` first (the root `npm test` does). */
export function serviceMain(name: ServiceName): string {
  try {
    return require.resolve(`@ticketing/${name}`);
  } catch (err) {
    throw new Error(`@ticketing/${name} is not built: run npm run build first`, { cause: err });
  }
}

/** Starts the built service as a real process on a port of its own choosing; see `startServiceProcess`. */
export function startService(name: ServiceName, env: Record<string, string>, options: { ready?: boolean } = {}): Promise<ServiceProcess> {
  return startServiceProcess(serviceMain(name), env, { ...options, name });
}
