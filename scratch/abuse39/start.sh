#!/bin/bash
# usage: start.sh PORT PEER RESP ADMIN
cd /work/wt-abuse39
rm -rf /tmp/abuse39/data; mkdir -p /tmp/abuse39/data
exec node packages/server/bin/shoal.js start --name n1 --port $1 --peer-port $2 --resp-port $3 --admin-port $4 --gossip-profile local --log-format json --log-level info --max-memory 32mb --data-dir /tmp/abuse39/data > /tmp/abuse39/node.log 2>/tmp/abuse39/node.err
