/**
 * The actor that owns one partition replica (src/actors). Everything that reads or changes the
 * partition's records is a job handed to this actor: it runs in the actor's turn, one at a time,
 * from a bounded mailbox, so the replica is only ever touched by its actor and a burst of work for
 * one partition is refused (backpressure) instead of queueing without limit.
 *
 * The actor's state is a `PartitionReplica` view over the node's shared Store; a restart after a
 * failure builds a fresh view (the store keeps the data; only caches are lost).
 */
import type { Actor } from '../actors/index.ts';
import type { PartitionReplica } from './partition-replica.ts';

/** Work on one partition's records, run in its actor's turn. */
export type PartitionJob = (replica: PartitionReplica) => void;

/** Actor names are `partition/<p>`. */
export function partitionActorName(partition: number): string {
  return `partition/${partition}`;
}

export class PartitionActor implements Actor<PartitionJob> {
  constructor(private readonly replica: PartitionReplica) {}

  receive(job: PartitionJob): void {
    job(this.replica);
  }
}
