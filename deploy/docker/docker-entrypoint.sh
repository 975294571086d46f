#!/bin/sh
# Entrypoint of the Shoal image. It only prepares arguments and then execs node, so node becomes
# this process (PID 1 in the container) and receives SIGTERM and SIGINT itself: `shoal start`
# answers either with its graceful leave (hand partitions off, drain clients, exit 0).
#
#   docker run shoal                      -> shoal start --host 0.0.0.0 --advertise-host <container IP>
#                                            (the image's CMD; it needs a password, below)
#   docker run shoal --seeds a:7401 ...   -> shoal start --seeds a:7401 ... (flags imply `start`)
#   docker run shoal status --node h:7400 -> any other shoal command
#
# Environment (none may start with SHOAL_: the daemon refuses SHOAL_* names it does not know):
#   CLI        the built `shoal` command (set by the Dockerfile)
#   ZONE_FILE  a file holding this node's zone, written by an init container (deploy/kubernetes);
#              when it is there and not empty, and no --zone is given, `--zone <its content>` is added.
#   DATA_DIR   the node's data directory (set by the Dockerfile): `--data-dir <it>` is added unless
#              --data-dir, --config or SHOAL_DATA_DIR says where it is.
# and the daemon's own SHOAL_* variables pass through to it, among them
#   SHOAL_DEFAULT_PASSWORD_FILE  a file (a mounted secret) holding the default user's password:
#              a node listening on 0.0.0.0 refuses to start without one (or --insecure).
#
# With --host 0.0.0.0 (or ::) and no --advertise-host, --config or SHOAL_ADVERTISE_HOST, the
# container's own address (`hostname -i`, the first one) is added as --advertise-host: a
# wildcard is no address to give other nodes and clients, and the daemon refuses it.
set -eu

: "${CLI:?CLI must name the shoal command (the Dockerfile sets it)}"

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- start "$@"
fi

if [ "$1" = start ] && [ -n "${ZONE_FILE:-}" ] && [ -s "$ZONE_FILE" ]; then
  zone_given=no
  for arg in "$@"; do
    case "$arg" in --zone | --zone=*) zone_given=yes ;; esac
  done
  if [ "$zone_given" = no ]; then
    zone=$(cat "$ZONE_FILE")
    set -- "$@" --zone "$zone"
  fi
fi

if [ "$1" = start ] && [ -n "${DATA_DIR:-}" ] && [ -z "${SHOAL_DATA_DIR:-}" ]; then
  dir_given=no
  for arg in "$@"; do
    case "$arg" in --data-dir | --data-dir=* | --config | --config=*) dir_given=yes ;; esac
  done
  if [ "$dir_given" = no ]; then
    set -- "$@" --data-dir "$DATA_DIR"
  fi
fi

if [ "$1" = start ] && [ -z "${SHOAL_ADVERTISE_HOST:-}" ]; then
  wildcard=no
  advertise_given=no
  previous=
  for arg in "$@"; do
    case "$arg" in
      --host=0.0.0.0 | --host=:: | '--host=[::]') wildcard=yes ;;
      0.0.0.0 | :: | '[::]') [ "$previous" = --host ] && wildcard=yes ;;
      --advertise-host | --advertise-host=* | --config | --config=*) advertise_given=yes ;;
    esac
    previous=$arg
  done
  if [ "$wildcard" = yes ] && [ "$advertise_given" = no ]; then
    address=$(hostname -i 2>/dev/null | cut -d' ' -f1 || true)
    if [ -n "$address" ]; then
      set -- "$@" --advertise-host "$address"
    fi
  fi
fi

exec node "$CLI" "$@"
