/**
 * A ring as people read it (`shoal ring`, the admin port's /ring, the dashboard): how many
 * partitions each node holds and leads, how balanced that is, and the runs of partitions that
 * share a preference list.
 */

/** What the summary needs of a topology (the SDK's and the node's have this shape). */
export interface RingInput {
  version: string;
  partitions: number;
  replicas: number;
  nodes: readonly { name: string; zone: string; clientAddress: string }[];
  owners: readonly (readonly string[])[];
}

export interface NodeShare {
  name: string;
  zone: string;
  clientAddress: string;
  /** Partitions whose preference list includes the node. */
  replicas: number;
  /** Partitions the node is first for. */
  primaries: number;
}

export interface RingSummary {
  version: string;
  partitions: number;
  replicas: number;
  nodes: NodeShare[];
  /** Most replicas on one node divided by the fair share (1.0 is perfect balance). */
  replicaImbalance: number;
  /** The same for primaries. */
  primaryImbalance: number;
  /** Consecutive partitions with the same preference list. */
  ranges: { first: number; last: number; owners: string[] }[];
}

export function summarize(t: RingInput): RingSummary {
  const shares = new Map<string, NodeShare>(t.nodes.map((n) => [n.name, { name: n.name, zone: n.zone, clientAddress: n.clientAddress, replicas: 0, primaries: 0 }]));
  const ranges: RingSummary['ranges'] = [];
  t.owners.forEach((owners, p) => {
    owners.forEach((name, rank) => {
      const share = shares.get(name);
      if (share === undefined) return;
      share.replicas++;
      if (rank === 0) share.primaries++;
    });
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.last === p - 1 && last.owners.join() === owners.join()) last.last = p;
    else ranges.push({ first: p, last: p, owners: [...owners] });
  });
  const nodes = [...shares.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const slots = t.owners.reduce((sum, o) => sum + o.length, 0);
  const imbalance = (most: number, total: number): number => (nodes.length === 0 || total === 0 ? 1 : most / (total / nodes.length));
  return {
    version: t.version,
    partitions: t.partitions,
    replicas: t.replicas,
    nodes,
    replicaImbalance: imbalance(Math.max(0, ...nodes.map((n) => n.replicas)), slots),
    primaryImbalance: imbalance(Math.max(0, ...nodes.map((n) => n.primaries)), t.partitions),
    ranges,
  };
}

