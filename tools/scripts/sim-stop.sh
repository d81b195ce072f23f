#!/usr/bin/env bash
# Stops the fleetsim daemon of a home and the control planes under <home>/planes by the
# PIDs that daemon.json and each plane.json record, for when bin/flotilla is missing or
# could not do it (`flotilla sim stop` is the first choice: it reports what it stopped).
# A PID is signalled only while /proc says it is still that process: the daemon's binary
# running `daemon`, or the plane component's binary working on the plane's directory.
# Exits non-zero when a process survives SIGKILL, so that `make clean` keeps its data.
set -uo pipefail
home=${1:?usage: sim-stop.sh HOME}
[ -d "$home" ] || exit 0
home=$(cd "$home" && pwd)

# owned PID NAME [DIR]: argv[0] of PID is NAME, and its command line mentions DIR/.
owned() {
  local args
  [ -r "/proc/$1/cmdline" ] || return 1
  mapfile -d '' args <"/proc/$1/cmdline" 2>/dev/null || return 1
  [ "${#args[@]}" -gt 0 ] && [ "$(basename "${args[0]}")" = "$2" ] || return 1
  [ -z "${3:-}" ] || [[ "${args[*]}" == *"$3/"* ]]
}

alive() { [ -e "/proc/$1" ] && ! grep -qE '^[0-9]+ \(.*\) [ZX] ' "/proc/$1/stat" 2>/dev/null; }

# stop GRACE PID...: SIGTERM, then SIGKILL after GRACE seconds; waits until all are gone.
stop() {
  local grace=$1 pid i
  shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    for pid in "$@"; do alive "$pid" && break; done
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null
  sleep 0.5
  for pid in "$@"; do
    if alive "$pid"; then echo "sim-stop: pid $pid survived SIGKILL" >&2; return 1; fi
  done
}

status=0
if [ -f "$home/daemon.json" ]; then
  pid=$(sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p' "$home/daemon.json")
  if [ -n "$pid" ] && { owned "$pid" pulumi-resource-fleetsim || owned "$pid" flotilla; } &&
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qx daemon; then
    echo "==> stopping the fleetsim daemon (pid $pid)"
    stop 60 "$pid" || status=1
  fi
fi

stopped=0
for state in "$home"/planes/*/plane.json; do
  [ -f "$state" ] || continue
  dir=$(dirname "$state")
  declare -A pids=()
  while read -r comp pid; do pids[$comp]=$pid; done < <(
    sed -n '/"pids": *{/,/}/s/^ *"\([a-z-]*\)": *\([0-9]*\).*/\1 \2/p' "$state")
  # The API server's clients first, then the API server, then etcd.
  for stage in "kube-scheduler kube-controller-manager kwok" kube-apiserver etcd; do
    list=()
    for comp in $stage; do
      pid=${pids[$comp]:-}
      if [ -n "$pid" ] && owned "$pid" "$comp" "$dir"; then list+=("$pid"); fi
    done
    [ ${#list[@]} -gt 0 ] || continue
    stopped=1
    stop 10 "${list[@]}" || status=1
  done
  [ "$stopped" = 1 ] && echo "==> stopped the control plane under $dir"
  stopped=0
  unset pids
done
exit $status
