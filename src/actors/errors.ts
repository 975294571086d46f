/**
 * The typed failures of the actor system. Each carries the address it concerns, so a caller can
 * shed load (MailboxFullError), retry elsewhere (AskTimeoutError) or report a bug (ActorFailedError).
 */
import { formatAddress } from './address.ts';
import type { ActorAddress } from './address.ts';

/** The actor's mailbox is at capacity: the message was not queued. Shed load or retry later. */
export class MailboxFullError extends Error {
  override readonly name = 'MailboxFullError';
  constructor(
    readonly address: ActorAddress,
    readonly capacity: number,
  ) {
    super(`mailbox of ${formatAddress(address)} is full (${capacity} messages); the message was dropped, retry later or shed load`);
  }
}

/** No live actor has this address (never spawned, or stopped): the message is a dead letter. */
export class ActorNotFoundError extends Error {
  override readonly name = 'ActorNotFoundError';
  constructor(readonly address: ActorAddress) {
    super(`no actor ${formatAddress(address)}: it was never spawned or has been stopped`);
  }
}

/** The actor was stopped (or the system shut down) before it handled or answered the message. */
export class ActorStoppedError extends Error {
  override readonly name = 'ActorStoppedError';
  constructor(readonly address: ActorAddress) {
    super(`actor ${formatAddress(address)} stopped before answering`);
  }
}

/** No reply within the ask's timeout. The request may or may not have been handled. */
export class AskTimeoutError extends Error {
  override readonly name = 'AskTimeoutError';
  constructor(
    readonly address: ActorAddress,
    readonly timeoutMs: number,
  ) {
    super(`no reply from ${formatAddress(address)} within ${timeoutMs} ms`);
  }
}

/** The actor threw while handling the asked message; it has been restarted. `cause` is what it threw. */
export class ActorFailedError extends Error {
  override readonly name = 'ActorFailedError';
  constructor(
    readonly address: ActorAddress,
    cause: unknown,
  ) {
    super(`actor ${formatAddress(address)} failed while handling the request (it was restarted)`, { cause });
  }
}

/** An actor with this name is already live on this node. */
export class DuplicateActorError extends Error {
  override readonly name = 'DuplicateActorError';
  constructor(readonly address: ActorAddress) {
    super(`an actor named ${formatAddress(address)} already exists; stop it first or choose another name`);
  }
}
