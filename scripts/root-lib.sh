# Sourced by the scripts that build Debian roots (debian-root.sh, docker-base.sh): messages prefixed with the
# script's name, the root check, and a work directory under /var/tmp that is removed on exit, with whatever is
# mounted inside it (debootstrap's proc and sys, a chroot's /proc) unmounted first.
# shellcheck shell=bash
self=$(basename "$0" .sh)
die() { echo "$self: $*" >&2; exit 1; }
log() { echo "$self: $*" >&2; }
need_root() { [[ $(id -u) == 0 ]] || die "run as root ($1)"; }
make_work() { # sets $work
  work=$(mktemp -d "/var/tmp/teredo-agents-$self.XXXXXX")
  trap remove_work EXIT
}
remove_work() {
  local m
  for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
  rm -rf --one-file-system "$work"
}
# parse_flags LINES NAME... -- "$@": each --NAME sets the variable NAME to true (the caller sets them false first);
# -h/--help prints the script's header lines LINES (sed range) without the '# '; anything else is an error.
parse_flags() {
  local lines=$1 names=() arg
  shift
  while [[ $1 != -- ]]; do names+=("$1"); shift; done
  shift
  for arg in "$@"; do
    if [[ $arg == -h || $arg == --help ]]; then sed -n "${lines}p" "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
    [[ $arg == --* && " ${names[*]} " == *" ${arg#--} "* ]] || die "unknown argument $arg (flags: ${names[*]/#/--})"
    printf -v "${arg#--}" true
  done
}
