/**
 * Actor addresses. An address names an actor on a node: `partition/17@n3`. The actor system on a
 * node delivers only to its own actors; the node part is there so that a router built on top of
 * the transport can tell local addresses from remote ones.
 */
export interface ActorAddress {
  /** The node (its member name) whose actor system hosts the actor. */
  readonly node: string;
  /** Unique among the node's live actors, e.g. `partition/17`. */
  readonly name: string;
}

export function actorAddress(node: string, name: string): ActorAddress {
  return { node, name };
}

/** `name@node`: for logs and error messages. */
export function formatAddress(address: ActorAddress): string {
  return `${address.name}@${address.node}`;
}
