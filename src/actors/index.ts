/**
 * The actor system: one per node. Actors own state that only they touch (each partition replica
 * is owned by one partition actor), handle one message at a time from a bounded mailbox, and are
 * restarted when they throw. See system.ts for the scheduling rules that keep it deterministic.
 */
export { actorAddress, formatAddress } from './address.ts';
export type { ActorAddress } from './address.ts';
export {
  ActorFailedError,
  ActorNotFoundError,
  ActorStoppedError,
  AskTimeoutError,
  DuplicateActorError,
  MailboxFullError,
} from './errors.ts';
export { BoundedQueue } from './mailbox.ts';
export { ActorSystem, DEFAULT_MAILBOX_CAPACITY, MAX_MESSAGES_PER_DRAIN } from './system.ts';
export type {
  Actor,
  ActorContext,
  ActorFactory,
  ActorRef,
  ActorStats,
  ActorSystemOptions,
  AskCallback,
  AskError,
  AskResult,
  Reply,
  RequestBuilder,
  SpawnOptions,
  SystemStats,
} from './system.ts';
