// The in-memory ban list `requireAuth` checks. Loads lru-cache and nothing of this package's
// database or NATS code; keeping it in step with the stream is `events`' job.
export { BanList, type BanApplyResult, type BanChecker, type BanListOptions } from './ban-list.js';
