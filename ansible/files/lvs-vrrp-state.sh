#!/bin/sh
# keepalived's notify script (ansible/files/lvs-vrrp-state.sh): keepalived calls it as
# <script> INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>. The node's VRRP state goes
# to a file the harness reads (lab/cluster.py), with the time it changed.
set -eu
dir=/run/lvs-ha-lab
mkdir -p "$dir"
printf '%s %s\n' "$3" "$(date +%s.%N)" > "$dir/vrrp-state.new"
mv "$dir/vrrp-state.new" "$dir/vrrp-state"
logger -t lvs-vrrp-state "$2: $3"
