#!/bin/sh
# Graceful drain for a Kubernetes preStop hook (or by hand: `docker exec <c> drain.sh`): sends
# SIGTERM to the node, which leaves the cluster (hands its partitions off, drains clients), and
# waits until it has exited, so the hook returns only when the node is gone. The pod's
# terminationGracePeriodSeconds must exceed the node's --shutdown-timeout; kubelet sends its own
# SIGTERM after this hook, which the stopping node ignores ("already stopping").
#
#   drain.sh [PID]   PID defaults to 1 (the node, exec'd by docker-entrypoint.sh)
set -eu
pid="${1:-1}"
kill -TERM "$pid" 2>/dev/null || exit 0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
done
