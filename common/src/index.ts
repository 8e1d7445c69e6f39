// Everything at once, for convenience; services import the subpath they need
// (`@ticketing/common/tokens`, `/bans`, `/http`, `/events`, `/runtime`), which loads less.
export * from './tokens/index.js';
export * from './bans/index.js';
export * from './http/index.js';
export * from './events/index.js';
export * from './runtime/index.js';
