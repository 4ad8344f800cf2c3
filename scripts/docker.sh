#!/usr/bin/env bash
# A private Docker engine for entropo's `docker` environment, and its base
# image. Idempotent: each subcommand checks first and does nothing when
# already done.
#
#   scripts/docker.sh start    start the engine (or reuse the running one) and
#                              print its DOCKER_HOST on stdout:
#                                  export DOCKER_HOST=$(scripts/docker.sh start)
#   scripts/docker.sh stop     stop the engine started by `start`
#   scripts/docker.sh status   exit 0 iff the engine answers; prints DOCKER_HOST
#   scripts/docker.sh image    build the base image entropo/base:bookworm on
#                              $DOCKER_HOST (default: the private engine) if
#                              the engine lacks it
#
# No image registry is reachable from these machines, so the base image is a
# Debian bookworm rootfs made by debootstrap (minbase + python3, git, patch)
# from the Debian mirror apt already uses, imported with `docker import`. The
# rootfs tarball is cached, so a new engine gets the image in about a second.
#
# Locations (environment variables override them):
#   ENTROPO_DOCKER_DATA   engine data root, kept between runs  (/var/lib/entropo-docker)
#   ENTROPO_DOCKER_RUN    socket, pid file, exec root           (/run/entropo-docker)
#   ENTROPO_DOCKER_CACHE  cached rootfs tarballs                (/var/cache/entropo)
set -euo pipefail

DATA=${ENTROPO_DOCKER_DATA:-/var/lib/entropo-docker}
RUN=${ENTROPO_DOCKER_RUN:-/run/entropo-docker}
CACHE=${ENTROPO_DOCKER_CACHE:-/var/cache/entropo}
SOCK=$RUN/docker.sock
PIDFILE=$RUN/dockerd.pid
LOG=$DATA.log
IMAGE=entropo/base:bookworm
SUITE=bookworm
INCLUDE=python3,git,patch

log() { printf '\033[1m[docker]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

private_host() { echo "unix://$SOCK"; }

# Whether the engine at $1 (a DOCKER_HOST value) answers.
answers() { DOCKER_HOST=$1 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# The pid of our running dockerd, if any.
running_pid() {
    local pid
    pid=$($SUDO cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && $SUDO kill -0 "$pid" 2>/dev/null && echo "$pid"
}

cmd_status() {
    answers "$(private_host)" || return 1
    private_host
}

cmd_start() {
    command -v dockerd >/dev/null || die "dockerd not found: run scripts/setup.sh (installs docker.io)"
    if answers "$(private_host)"; then
        private_host
        return
    fi
    $SUDO mkdir -p "$DATA" "$RUN"
    # One start at a time; the loser of a race reuses the winner's engine.
    exec 8>"$RUN/start.lock"
    flock 8
    if ! answers "$(private_host)"; then
        if pid=$(running_pid); then
            log "dockerd $pid does not answer; stopping it"
            cmd_stop
        fi
        $SUDO rm -f "$SOCK" "$PIDFILE"
        log "starting dockerd (data root $DATA, socket $SOCK, log $LOG)"
        # setsid: the engine outlives this shell and ignores its signals.
        $SUDO setsid dockerd \
            --data-root "$DATA" --exec-root "$RUN/exec" -H "unix://$SOCK" --pidfile "$PIDFILE" \
            --storage-driver=overlay2 --iptables=false --ip6tables=false --bridge=none \
            </dev/null >>"$LOG" 2>&1 8>&- &
        for _ in $(seq 300); do
            answers "$(private_host)" && break
            kill -0 $! 2>/dev/null || die "dockerd exited; see $LOG"
            sleep 0.1
        done
        answers "$(private_host)" || die "dockerd did not answer within 30 s; see $LOG"
    fi
    flock -u 8
    private_host
}

cmd_stop() {
    local pid
    if pid=$(running_pid); then
        log "stopping dockerd $pid"
        $SUDO kill -TERM "$pid"
        for _ in $(seq 150); do
            $SUDO kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if $SUDO kill -0 "$pid" 2>/dev/null; then
            log "dockerd $pid still running after 15 s; killing it"
            $SUDO kill -KILL "$pid" || true
        fi
    fi
    $SUDO rm -f "$SOCK" "$PIDFILE"
}

# The first Debian mirror apt uses for $SUITE (one-line or deb822 sources).
apt_mirror() {
    local files=() f found
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    ((${#files[@]})) || files=(/dev/null)
    found=$(awk -v suite="$SUITE" '
        function emit(u) { if (!done) print u; done = 1 }
        function stanza() { if (hit && types ~ /[ \t]deb([ \t]|$)/) emit(uri); hit = 0; uri = ""; types = "" }
        FNR == 1    { stanza() }
        /^deb[ \t]/ { sub(/\[[^]]*\][ \t]*/, ""); if ($3 == suite) emit($2) }
        /^Types:/   { types = $0 }
        /^URIs:/    { uri = $2 }
        /^Suites:/  { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
        /^[ \t]*$/  { stanza() }
        END         { stanza() }
    ' "${files[@]}")
    echo "${found:-http://deb.debian.org/debian}"
}

# Removes a debootstrap folder, first unmounting what a failed run left
# mounted in it (/proc, /sys…), and its log.
remove_rootfs() {
    local m
    awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        $SUDO umount -l "$m" || true
    done
    $SUDO rm -rf --one-file-system "$1" "$1.log"
}

cmd_image() {
    export DOCKER_HOST=${DOCKER_HOST:-$(private_host)}
    answers "$DOCKER_HOST" || die "no Docker engine at $DOCKER_HOST: run scripts/docker.sh start"
    if docker image inspect "$IMAGE" >/dev/null 2>&1; then
        return
    fi
    local tarball="$CACHE/rootfs-$SUITE-minbase-${INCLUDE//,/-}.tar"
    if [ ! -s "$tarball" ]; then
        command -v debootstrap >/dev/null || die "debootstrap not found: run scripts/setup.sh"
        local mirror rootfs
        mirror=$(apt_mirror)
        $SUDO mkdir -p "$CACHE"
        rootfs=$($SUDO mktemp -d "$CACHE/rootfs.XXXXXX")
        log "debootstrap --variant=minbase --include=$INCLUDE $SUITE from $mirror"
        if ! $SUDO debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
            tail -n 20 "$rootfs.log" >&2
            remove_rootfs "$rootfs"
            die "debootstrap failed"
        fi
        $SUDO rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        $SUDO tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
        $SUDO mv "$tarball.partial" "$tarball"
        remove_rootfs "$rootfs"
    fi
    log "docker import $tarball $IMAGE"
    $SUDO cat "$tarball" | docker import - "$IMAGE" >/dev/null
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    image) cmd_image ;;
    *) echo "usage: $0 start|stop|status|image" >&2; exit 2 ;;
esac
