// The auth events (subjects, payloads, validation), the NATS connection, the AUTH stream, and the
// ban sync that keeps a ban list in step with it.
export {
  AUTH_STREAM, Subjects, parseAuthEvent, checkAuthEvent, encodeEvent, isKnownSubject, MalformedEventError,
  type AuthEvent, type UserBannedPayload, type UserUnbannedPayload,
} from './auth-events.js';
export { authStreamInfo, connectNats, ensureAuthStream, type ConnectNatsOptions, type NatsClient, type NatsConnection } from './nats.js';
export { startServiceBanSync, type BanSync, type ServiceBanSyncOptions } from './ban-sync.js';
