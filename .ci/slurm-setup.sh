#!/usr/bin/env bash
# A single-node SLURM on 127.0.0.1 for tests/test_slurm.py (Debian/Ubuntu, run as root).
#
#   partitions: cpu (default) and gpu, both on the one node `localhost`
#   the node advertises one GPU GRES (gres/gpu:1) backed by a fake device file (/dev/null):
#   jobs that ask for --gpus=1 are scheduled on it, nothing on the machine is a real GPU.
#   accounting: none (sacct reads the controller's memory; MinJobAge keeps finished jobs for 2 h)
#
# Idempotent: rerunning it rewrites the config and restarts the daemons. Logs: /var/log/slurm/.
# Stop it: .ci/slurm-setup.sh stop
set -euo pipefail

if [[ "${1:-}" == "stop" ]]; then
    for pidfile in /run/slurm/slurmd.pid /run/slurm/slurmctld.pid; do
        [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "slurm-setup: must run as root (installs packages, starts daemons)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends slurm-wlm munge
fi

# munge: one key, one daemon.
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null \
        || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    sleep 1
fi
munge -n | unmunge >/dev/null

# The node's real hardware as slurmd sees it (CPUs, sockets, cores, threads, RealMemory).
node_hw=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')

confdir=/etc/slurm
mkdir -p "$confdir" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm
chown -R slurm:slurm /var/lib/slurm/slurmctld /var/log/slurm /run/slurm

cat >"$confdir/slurm.conf" <<EOF
# Written by .ci/slurm-setup.sh: a single-node test cluster.
ClusterName=ci
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# containers have no systemd/cgroup delegation: track processes by parent pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=7200
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 ${node_hw} Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=localhost MaxTime=INFINITE State=UP
EOF

# The GPU GRES: slurmd needs a device file per GPU; /dev/null stands in for /dev/nvidia0.
cat >"$confdir/gres.conf" <<EOF
AutoDetect=off
NodeName=localhost Name=gpu File=/dev/null
EOF

# (Re)start the daemons.
for pidfile in /run/slurm/slurmd.pid /run/slurm/slurmctld.pid; do
    if [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null; then
        sleep 1
    fi
done
slurmctld -c   # -c: start clean, no jobs left from an earlier run
slurmd -N localhost

up=""
for _ in $(seq 30); do
    if ! kill -0 "$(cat /run/slurm/slurmctld.pid 2>/dev/null || echo 0)" 2>/dev/null; then
        echo "slurm-setup: slurmctld exited:" >&2
        tail -5 /var/log/slurm/slurmctld.log >&2
        exit 1
    fi
    if timeout 5 sinfo -h -o "%T" -n localhost 2>/dev/null | grep -q -E "^(idle|mixed|allocated)"; then
        up=yes
        break
    fi
    sleep 1
done
if [[ -z "$up" ]]; then
    echo "slurm-setup: the node did not come up; see /var/log/slurm/" >&2
    timeout 5 sinfo -N -o "%P %N %T %E" >&2 || true
    exit 1
fi
sinfo -N -o "%P %N %T %c %m %G"
echo "slurm-setup: cluster 'ci' up (partitions cpu, gpu; gres/gpu:1 on localhost)"
