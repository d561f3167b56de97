#!/bin/sh
# runsc-wrapper.sh -- lets containerd's runc shim (runtime_type io.containerd.runc.v2)
# drive gVisor's runsc. TEST RUNTIME ONLY (cri_client.testing).
#
# Debian packages runsc but not gVisor's own shim (containerd-shim-runsc-v1), so
# the "runsc" runtime handler uses the runc shim with BinaryName = a per-instance
# stub (<instance>/bin/runsc) that sets
#   CRI_CLIENT_RUNSC        path of the real runsc binary
#   CRI_CLIENT_RUNSC_FLAGS  global runsc flags ("--platform=systrap --network=host")
# and runs this file with /bin/sh. The shim calls it exactly like runc:
#   --root R --log L --log-format json <command> [options] <id>
#
# Three runc/runsc differences break the non-sandbox ("sub") containers of a pod;
# everything else goes straight to runsc.
#  1. stdio: runsc gives a sub-container the stdio of `runsc start`, runc that of
#     `runc create`. The shim runs `start` with a pipe that captures its output
#     and waits for EOF on it; the sandbox keeps the pipe, so StartContainer hangs.
#     Fix: at create, a background "waiter" inherits the container IO the shim
#     passed to create; start reopens it from /proc/<waiter>/fd/{0,1,2}.
#  2. exit: runsc writes the *sandbox* PID to --pid-file for a sub-container, so
#     the shim never sees the container exit (StopContainer hangs). Fix: the
#     waiter's PID goes to --pid-file; the waiter runs `runsc wait` and exits with
#     the container's status; the shim, a child subreaper, reaps it.
#  3. kill errors: runsc says "sandbox is not running" where runc says "container
#     not running"; only the latter tells the shim the process is already gone
#     (containerd 1.6 otherwise retries the sandbox exit forever and
#     StopPodSandbox hangs). Fix: prefix the error with "container not running".
set -u
runsc=${CRI_CLIENT_RUNSC:?CRI_CLIENT_RUNSC is not set}
# Word splitting of $flags is intended: it holds several flags.
flags=${CRI_CLIENT_RUNSC_FLAGS:-}

if [ "${1:-}" = --cri-client-waiter ]; then
  root=$2 id=$3
  # `runsc wait` needs a started container: wait for StartContainer first.
  while :; do
    status=$("$runsc" $flags --root "$root" state "$id" 2>/dev/null |
      sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')
    case $status in
      running | stopped) break ;;
      creating | created) sleep 0.05 ;;
      *) exit 255 ;; # removed without ever being started
    esac
  done
  result=$("$runsc" $flags --root "$root" wait "$id" 2>/dev/null)
  code=$(printf '%s' "$result" | sed -n 's/.*"exitStatus": *\([0-9]*\).*/\1/p')
  rm -f "$root/$id.waiter"
  exit "${code:-255}"
fi

command='' root='' bundle='' pid_file='' previous='' id=''
for arg in "$@"; do
  case $previous in
    --root) root=$arg ;;
    --bundle | -b) bundle=$arg ;;
    --pid-file) pid_file=$arg ;;
  esac
  if [ -z "$command" ]; then
    case $arg in create | start | kill | delete) command=$arg ;; esac
  fi
  previous=$arg
  id=$arg # the container id is the last argument (kill: the signal; unused there)
done

case $command in
  create)
    if [ -n "$bundle" ] && [ -n "$pid_file" ] &&
      grep -q '"io.kubernetes.cri.container-type": *"container"' "$bundle/config.json"; then
      "$runsc" $flags "$@" || exit
      config=$(cat "$bundle/config.json")
      cgroups_path=$(printf '%s' "$config" | sed -n 's/.*"cgroupsPath": *"\([^"]*\)".*/\1/p')
      sandbox_id=$(printf '%s' "$config" |
        sed -n 's/.*"io.kubernetes.cri.sandbox-id": *"\([0-9a-f]*\)".*/\1/p')
      /bin/sh "$0" --cri-client-waiter "$root" "$id" &
      waiter=$!
      # The shim loads the container's cgroup from the PID it reads next: put the
      # waiter in the sandbox's cgroup (cgroupfs paths: <pod parent>/<sandbox id>)
      # so ContainerStats report the pod instead of the host's root cgroup.
      case $cgroups_path in
        /*/*)
          if [ -n "$sandbox_id" ]; then
            for hierarchy in /sys/fs/cgroup/*; do
              procs=$hierarchy${cgroups_path%/*}/$sandbox_id/cgroup.procs
              [ -e "$procs" ] && echo "$waiter" >"$procs" 2>/dev/null
            done
          fi
          ;;
      esac
      echo "$waiter" >"$root/$id.waiter"
      printf '%s' "$waiter" >"$pid_file"
      exit 0
    fi
    ;;
  start)
    waiter=$(cat "$root/$id.waiter" 2>/dev/null)
    if [ -n "$waiter" ] && [ -e "/proc/$waiter/fd/1" ]; then
      exec "$runsc" $flags "$@" <"/proc/$waiter/fd/0" >"/proc/$waiter/fd/1" 2>"/proc/$waiter/fd/2"
    fi
    ;;
  kill)
    error=$("$runsc" $flags "$@" 2>&1 >/dev/null) && exit 0
    code=$?
    case $error in
      *"not running"* | *"in state stopped"* | *"not found"* | *"does not exist"*)
        printf 'container not running: %s\n' "$error" >&2 ;;
      *) printf '%s\n' "$error" >&2 ;;
    esac
    exit "$code"
    ;;
  delete)
    rm -f "$root/$id.waiter"
    ;;
esac
exec "$runsc" $flags "$@"
