#!/bin/bash
# End-to-end test: what a user does with the .debs, under a real systemd.
#
#   sudo tests/e2e/run-e2e.sh        (meson: meson test -C BUILD --suite e2e)
#
# Builds the .debs with tools/build-debs, boots a Debian 12 root with
# systemd-nspawn --boot, installs the packages there with apt and drives the
# installed service with systemctl and the installed client. Prints TAP:
# one `ok N - ...` / `not ok N - ...` line per step on stdout; everything
# else (command output, diagnostics) goes to stderr.
#
# Needs root, and on the host: debootstrap, systemd-container
# (systemd-nspawn), util-linux (unshare, nsenter), iproute2, python3, dpkg-dev
# and the rest of what tools/build-debs needs. The first run downloads a minbase root with
# debootstrap (from E2E_MIRROR, default deb.debian.org) and caches it under
# /var/tmp keyed by ROOT_VERSION; the .debs are cached keyed by a hash of the
# source tree. Each run boots a throwaway copy of the root.
#
# The container shares the host's network namespace. The service's default
# port 8888 is used when it is free on the host (or E2E_PORT); otherwise a
# free port is chosen and set with drop-ins for the service and the socket.
# The boot-and-restart steps briefly add 10.77.0.1 to the host's lo, hold the
# service's port from the host, and use port 80 (or a free one in 1000-1023);
# each undoes what it did, and the exit trap does too. The steps of restarts
# that keep the clients connect raw clients from the host (chat_peer.py), and
# hold each start of the service before the daemon runs with a drop-in (the
# gate), so that they can act while no daemon process exists.
set -uo pipefail

# Bump ROOT_VERSION whenever ROOT_PACKAGES changes. The root must contain the
# runtime dependencies of the .debs: apt installs them without a network.
readonly ROOT_VERSION=v3
readonly ROOT_PACKAGES=systemd,systemd-sysv,dbus,man-db,procps,libsystemd0,libstdc++6,libgcc-s1,libhiredis0.14,libssl3,libedit2,libbsd0
readonly ROOT_CACHE=/var/tmp/epollchat-e2e-root-$ROOT_VERSION
readonly DEBS_CACHE=/var/tmp/epollchat-e2e-debs
readonly MIRROR=${E2E_MIRROR:-http://deb.debian.org/debian}
readonly DEFAULT_PORT=8888

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
readonly srcdir

# --- TAP ---------------------------------------------------------------------

n=0
failed=0
# One test per step below, and the summary line.
plan=$(($(grep -c '^step "' "$0") + 1))
echo "1..$plan"

diag() { printf '# %s\n' "$*" >&2; }

# step DESCRIPTION COMMAND...: runs COMMAND, prints the TAP line.
step() {
    local desc=$1
    shift
    n=$((n + 1))
    diag "--- step $n: $desc"
    if "$@" >&2; then
        echo "ok $n - $desc${step_note:+ ($step_note)}"
        step_note=
        return 0
    fi
    echo "not ok $n - $desc${step_note:+ ($step_note)}"
    step_note=
    failed=$((failed + 1))
    return 1
}
step_note=

# A failed step that later steps depend on ends the run.
bail() {
    echo "Bail out! $*"
    exit 1
}

# --- Container lifecycle -----------------------------------------------------

run_dir=
nspawn_pid=
container_pid=
reader_pid=
# Host state a step made and must undo: an address on lo, a process holding a port.
late_address=
holder_pid=
# Raw clients on the host (chat_peer.py), by name: the pid, and the fd of the FIFO the
# test writes their lines into.
declare -A peer_pid=() peer_fd=() peer_from=()
exec 7>&-

cleanup() {
    local rc=$?
    exec 7>&- 2>/dev/null
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        diag "cleanup: stopping the container"
        # SIGTERM makes systemd-nspawn ask the container's systemd to power off.
        kill -TERM "$nspawn_pid" 2>/dev/null
        if ! timeout 30 tail --pid="$nspawn_pid" -f /dev/null; then
            kill -KILL "$nspawn_pid" 2>/dev/null
            timeout 10 tail --pid="$nspawn_pid" -f /dev/null
        fi
    fi
    if [ -n "$reader_pid" ]; then
        kill "$reader_pid" 2>/dev/null
    fi
    stop_peers
    release_port
    remove_late_address
    if [ -n "$run_dir" ] && [ -d "$run_dir" ]; then
        rm -rf --one-file-system "$run_dir"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# inside CMD...: run CMD inside the container, with a clean environment.
inside() {
    timeout 300 nsenter -t "$container_pid" -a \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}

# wait_until SECONDS CMD...: retry CMD (quietly) until it succeeds, at most
# SECONDS long. CMD may be a shell function.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# file_has FILE REGEX (used through wait_until)
file_has() { grep -Eq -- "$2" "$1"; }

main_pid() { inside systemctl show -P MainPID epollchatd.service; }

# --- Steps -------------------------------------------------------------------

check_host() {
    local missing=
    [ "$(id -u)" -eq 0 ] || { echo "the end-to-end test must run as root" >&2; return 1; }
    for tool in debootstrap:debootstrap systemd-nspawn:systemd-container \
            unshare:util-linux nsenter:util-linux dpkg-buildpackage:dpkg-dev \
            timeout:coreutils ip:iproute2 python3:python3; do
        command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
    done
    [ -z "$missing" ] || { echo "missing host packages:$missing" >&2; return 1; }
}

# The tree hash keys the .deb cache: files git knows about (tracked or new
# and not ignored), as tools/build-debs copies them.
tree_hash() {
    (cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
        LC_ALL=C sort -z |
        while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
        xargs -0 sha256sum | sha256sum | cut -c1-16)
}

build_debs() {
    local hash
    hash=$(tree_hash) || hash=nogit-$$
    debs="$DEBS_CACHE/$hash"
    if compgen -G "$debs/epollchatd_*.deb" >/dev/null &&
            compgen -G "$debs/epollchat_*.deb" >/dev/null; then
        step_note="cached, tree $hash"
        return 0
    fi
    # Keep only the newest packages; leave other runs' builds in progress
    # alone (and clear ones abandoned for a day).
    mkdir -p "$DEBS_CACHE"
    find "$DEBS_CACHE" -mindepth 1 -maxdepth 1 ! -name 'build.*' -exec rm -rf {} +
    find "$DEBS_CACHE" -mindepth 1 -maxdepth 1 -name 'build.*' -mmin +1440 -exec rm -rf {} +
    local tmp
    tmp=$(mktemp -d "$DEBS_CACHE/build.XXXXXX") || return 1
    # The unit and integration tests ran earlier in the same suite.
    if DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" "$srcdir/tools/build-debs" "$tmp"; then
        mv -T "$tmp" "$debs"
        step_note="tree $hash"
    else
        rm -rf "$tmp"
        return 1
    fi
}

prepare_root() {
    if [ -x "$ROOT_CACHE/lib/systemd/systemd" ]; then
        step_note="cached $ROOT_CACHE"
    else
        local tmp
        tmp=$(mktemp -d "$ROOT_CACHE.tmp.XXXXXX") || return 1
        # mktemp made it 0700: as the container's / that would lock every
        # user but root (messagebus, the service's dynamic user) out.
        chmod 0755 "$tmp"
        if ! debootstrap --variant=minbase --include="$ROOT_PACKAGES" \
                bookworm "$tmp" "$MIRROR"; then
            rm -rf --one-file-system "$tmp"
            return 1
        fi
        # Built aside and renamed, so a half-built root is never used; if a
        # concurrent run got there first, keep its root.
        mv -T "$tmp" "$ROOT_CACHE" 2>/dev/null || rm -rf --one-file-system "$tmp"
        step_note="debootstrap into $ROOT_CACHE"
    fi
    run_dir=$(mktemp -d /var/tmp/epollchat-e2e-run.XXXXXX) || return 1
    cp -a "$ROOT_CACHE" "$run_dir/root"
}

port_is_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6
}

choose_port() {
    port=${E2E_PORT:-$DEFAULT_PORT}
    if port_is_listening "$port"; then
        [ -z "${E2E_PORT:-}" ] || { echo "E2E_PORT=$port is in use on the host" >&2; return 1; }
        for _ in $(seq 50); do
            port=$((20000 + RANDOM % 20000))
            port_is_listening "$port" || break
        done
        port_is_listening "$port" && return 1
    fi
    step_note="127.0.0.1:$port"
}

boot_container() {
    mkdir -p /run/systemd/nspawn
    # A private mount namespace with its own /run/systemd/nspawn keeps
    # nspawn's bookkeeping off the host; --register=no and --keep-unit
    # because the host need not run systemd.
    # shellcheck disable=SC2016  # $1 is expanded by the inner sh
    unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd/nspawn &&
        exec systemd-nspawn --quiet -D "$1" --boot --register=no --keep-unit' \
        sh "$run_dir/root" </dev/null >"$run_dir/console.log" 2>&1 &
    nspawn_pid=$!
    # The container's PID 1 is the systemd whose parent is systemd-nspawn.
    wait_until 30 pgrep -P "$nspawn_pid" -x systemd || { cat "$run_dir/console.log"; return 1; }
    container_pid=$(pgrep -P "$nspawn_pid" -x systemd)
    # systemctl needs the manager's private socket, which appears early in
    # the boot; then it can wait for the boot to finish.
    wait_until 30 inside test -S /run/systemd/private || { cat "$run_dir/console.log"; return 1; }
    local state
    state=$(inside timeout 60 systemctl is-system-running --wait)
    echo "system state: $state"
    step_note="$state"
    case $state in
        running) ;;
        degraded) inside systemctl --failed --no-pager ;;  # not ours: nothing is installed yet
        *) inside systemctl --failed --no-pager; return 1 ;;
    esac
}

install_debs() {
    # Before the install: the accounts, to check nothing is left behind.
    cp "$run_dir/root/etc/passwd" "$run_dir/passwd.before"
    cp "$run_dir/root/etc/group" "$run_dir/group.before"
    mkdir -p "$run_dir/root/root/debs"
    cp "$debs"/epollchatd_*.deb "$debs"/epollchat_*.deb "$run_dir/root/root/debs/"
    if [ "$port" != "$DEFAULT_PORT" ]; then
        # The host already uses the default port: move the service (the
        # command line overrides the conffile) and the socket.
        local exec_start
        exec_start=$(dpkg-deb --fsys-tarfile "$debs"/epollchatd_*.deb |
            tar -xOf - ./lib/systemd/system/epollchatd.service | grep '^ExecStart=' | head -n1)
        mkdir -p "$run_dir/root/etc/systemd/system/epollchatd.service.d" \
            "$run_dir/root/etc/systemd/system/epollchatd.socket.d"
        printf '[Service]\nExecStart=\n%s --port %s\n' "$exec_start" "$port" \
            >"$run_dir/root/etc/systemd/system/epollchatd.service.d/e2e-port.conf"
        printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$port" \
            >"$run_dir/root/etc/systemd/system/epollchatd.socket.d/e2e-port.conf"
    fi
    inside sh -c 'cd /root/debs && apt-get install -y --no-install-recommends ./epollchatd_*.deb ./epollchat_*.deb'
}

service_is_active() {
    local state
    state=$(inside systemctl is-active epollchatd.service)
    step_note=$state
    [ "$state" = active ] || { inside systemctl status --no-pager epollchatd.service; return 1; }
    step_note="$state, $(inside systemctl show -P StatusText epollchatd.service)"
}

# Reinstalling the package runs the upgrade path of the maintainer scripts
# (preinst upgrade, postinst configure OLD-VERSION): the service restarts.
upgrade_restarts() {
    local before after
    before=$(main_pid)
    inside sh -c 'cd /root/debs && apt-get install -y --reinstall ./epollchatd_*.deb' || return 1
    wait_until 10 new_main_pid_active "$before" || { echo "MainPID $before -> $(main_pid)"; return 1; }
    [ "$(inside systemctl is-enabled epollchatd.service)" = enabled ] || return 1
    [ "$(inside systemctl is-enabled epollchatd.socket)" = disabled ] || return 1
    after=$(main_pid)
    step_note="MainPID $before -> $after; service enabled, socket disabled"
}

# Client A reads from a fifo the test holds open on fd 7 and writes to a file
# both visible from the host through the container's root directory.
start_reader() {
    mkdir -p "$run_dir/root/var/lib/e2e"
    rm -f "$run_dir/root/var/lib/e2e/a.in" "$run_dir/root/var/lib/e2e/a.out"
    mkfifo "$run_dir/root/var/lib/e2e/a.in"
    exec 7<>"$run_dir/root/var/lib/e2e/a.in"
    # Not through inside(): no timeout, and without the test's fd 7 so that
    # closing it gives the client end of file.
    nsenter -t "$container_pid" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        sh -c "exec epollchat 127.0.0.1 $port </var/lib/e2e/a.in >/var/lib/e2e/a.out 2>&1" 7>&- &
    reader_pid=$!
    wait_until 10 file_has "$run_dir/root/var/lib/e2e/a.out" '^Welcome to the chat room! Your chat ID is: Client #[0-9]+' ||
        { cat "$run_dir/root/var/lib/e2e/a.out"; return 1; }
}

# say TEXT: client B, a second session, sends one line and quits on EOF.
say() {
    printf '%s\n' "$1" | inside timeout 10 epollchat 127.0.0.1 "$port"
}

# reader_got REGEX: client A prints REGEX within 10 s.
reader_got() {
    wait_until 10 file_has "$run_dir/root/var/lib/e2e/a.out" "$1" ||
        { echo "client A's output:"; cat "$run_dir/root/var/lib/e2e/a.out"; return 1; }
}

two_clients_chat() {
    start_reader || return 1
    say "hello from B" || return 1
    reader_got '^Client #[0-9]+ says >> hello from B$'
}

man_renders() {
    local out
    out=$(inside man -P cat epollchatd 2>&1) || { echo "$out"; return 1; }
    printf '%s\n' "$out" | head -n 20
    # Here-strings, not pipes: grep -q stops at the first match, and under pipefail the
    # writer's SIGPIPE would fail the step once the page outgrows a pipe's buffer.
    grep -q '^NAME' <<<"$out" || return 1
    grep -q 'epollchatd' <<<"$out" || return 1
    step_note="$(printf '%s\n' "$out" | wc -l) lines"
}

reload_keeps_clients() {
    local before after
    before=$(main_pid)
    inside systemctl reload epollchatd.service || return 1
    after=$(main_pid)
    [ "$before" = "$after" ] || { echo "MainPID changed on reload: $before -> $after"; return 1; }
    [ "$(inside systemctl is-active epollchatd.service)" = active ] || return 1
    kill -0 "$reader_pid" 2>/dev/null || { echo "client A exited on reload"; return 1; }
    say "after reload" || return 1
    reader_got '^Client #[0-9]+ says >> after reload$' || return 1
    if grep -q 'Server shutting down' "$run_dir/root/var/lib/e2e/a.out"; then
        echo "client A was told the server shuts down"
        return 1
    fi
    step_note="MainPID $after kept"
}

# --- Restarts that keep the clients --------------------------------------------

# Raw clients run on the host (tests/e2e/chat_peer.py; the container shares the host's
# network). Each keeps one connection from start to end and never reconnects, so what it
# sees is what that one TCP connection went through. A step looks only at the lines its
# peers got since peer_mark.

# peer_start NAME [PORT CAFILE]: connect the raw client NAME (over TLS to PORT, trusting
# CAFILE); it writes what it gets to $run_dir/NAME.out.
peer_start() {
    local in=$run_dir/$1.in fd
    rm -f "$in" "$run_dir/$1.out"
    mkfifo "$in" || return 1
    exec {fd}<>"$in"
    peer_fd[$1]=$fd
    peer_from[$1]=1
    # The client closes every descriptor it inherits, this FIFO's writing end among them,
    # so that closing it here ends the client's input.
    if [ $# -ge 3 ]; then
        python3 "$srcdir/tests/e2e/chat_peer.py" --tls "$3" 127.0.0.1 "$2" "$in" "$run_dir/$1.out" &
    else
        python3 "$srcdir/tests/e2e/chat_peer.py" 127.0.0.1 "$port" "$in" "$run_dir/$1.out" &
    fi
    peer_pid[$1]=$!
    peer_got "$1" '^-- connected$'
}

# peer_stop NAME: end NAME's input (it closes its connection) and wait for it.
peer_stop() {
    local fd=${peer_fd[$1]:-} pid=${peer_pid[$1]:-}
    [ -z "$fd" ] || exec {fd}>&-
    if [ -n "$pid" ]; then
        wait_until 10 peer_exited "$1" || kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    unset "peer_fd[$1]" "peer_pid[$1]"
}

peer_exited() { ! kill -0 "${peer_pid[$1]}" 2>/dev/null; }

stop_peers() {
    local name
    for name in "${!peer_pid[@]}"; do
        peer_stop "$name"
    done
}

# peer_say NAME LINE
peer_say() { printf '%s\n' "$2" >&"${peer_fd[$1]}"; }

# peer_mark NAME...: from now on, look only at the lines that follow.
peer_mark() {
    local name
    for name in "$@"; do
        peer_from[$name]=$(($(wc -l <"$run_dir/$name.out") + 1))
    done
}

# peer_output NAME: the lines NAME got since its mark.
peer_output() { tail -n "+${peer_from[$1]}" "$run_dir/$1.out"; }

# peer_has NAME REGEX (here-strings, not pipes: see man_renders)
peer_has() { grep -Eq -- "$2" <<<"$(peer_output "$1")"; }

# peer_got NAME REGEX [SECONDS]: NAME gets a line matching REGEX within SECONDS (10).
peer_got() {
    wait_until "${3:-10}" peer_has "$1" "$2" && return 0
    echo "$1 did not get a line matching $2; since the mark it got:"
    peer_output "$1"
    return 1
}

# peer_after NAME FIRST THEN: a line matching THEN follows the first one matching FIRST.
# (The patterns reach awk through the environment, which keeps their backslashes.)
peer_after() {
    peer_output "$1" | FIRST=$2 THEN=$3 awk '
        seen && $0 ~ ENVIRON["THEN"] { found = 1 }
        !seen && $0 ~ ENVIRON["FIRST"] { seen = 1 }
        END { exit !found }' && return 0
    echo "$1: no line matching $3 after one matching $2; since the mark:"
    peer_output "$1"
    return 1
}

# peer_once NAME REGEX: exactly one line since the mark matches REGEX.
peer_once() {
    local count
    count=$(grep -Ec -- "$2" <<<"$(peer_output "$1")")
    [ "$count" = 1 ] || { echo "$1 got $count lines matching $2, expected 1"; return 1; }
}

# peer_connected NAME: its connection is still open (the client runs, and saw no end).
peer_connected() {
    if peer_exited "$1" || grep -Eq '^-- (end of file|error)' "$run_dir/$1.out"; then
        echo "$1 was disconnected:"
        tail -n 5 "$run_dir/$1.out"
        return 1
    fi
}

# A drop-in holds each start of the service before the daemon runs, for as long as the
# FIFO $GATE exists and nobody writes to it: the test then acts while no daemon process
# exists at all (the old one is gone, the new one not started), and lets the start go on
# with open_gate. The "+" runs the wait outside the sandbox, as root.
readonly GATE=/var/lib/e2e/gate
readonly GATE_DROPIN=etc/systemd/system/epollchatd.service.d/e2e-gate.conf

install_gate() {
    mkdir -p "$run_dir/root/${GATE_DROPIN%/*}" "$run_dir/root${GATE%/*}"
    printf '[Service]\nExecStartPre=+/bin/sh -c %s\n' \
        "'if [ -p $GATE ]; then read -r _ <$GATE; fi'" >"$run_dir/root/$GATE_DROPIN"
    inside systemctl daemon-reload
}

remove_gate() {
    rm -f "$run_dir/root/$GATE_DROPIN" "$run_dir/root$GATE"
    inside systemctl daemon-reload
}

close_gate() {
    rm -f "$run_dir/root$GATE"
    mkfifo "$run_dir/root$GATE"
}

# open_gate: lets a held start go on (the write waits for the held start's read).
open_gate() {
    local ok=0
    # shellcheck disable=SC2016  # $1 is expanded by the inner sh
    timeout 30 sh -c 'echo go >"$1"' sh "$run_dir/root$GATE" && ok=1
    rm -f "$run_dir/root$GATE"
    [ "$ok" = 1 ] || echo "no start of the service waited at the gate"
    [ "$ok" = 1 ]
}

sub_state_is() { [ "$(inside systemctl show -P SubState epollchatd.service)" = "$1" ]; }

# Two raw clients, alice and bob, take nicknames and meet in a room other than the lobby;
# the restarts below must keep both. The gate goes in for those steps.
peers_meet_in_a_room() {
    local peer
    for peer in alice bob; do
        peer_start "$peer" &&
            peer_got "$peer" '^Welcome to the chat room! Your chat ID is: Client #[0-9]+$' &&
            peer_say "$peer" "/nick $peer" &&
            peer_got "$peer" "^\\*\\*\\* You are now known as $peer\\.\$" &&
            peer_say "$peer" '/join e2e-room' &&
            peer_got "$peer" '^\*\*\* You are now in e2e-room \([0-9]+ online\)\.$' || return 1
    done
    peer_say alice 'hello from alice' && peer_got bob '^alice says >> hello from alice$' || return 1
    install_gate
}

# kept_through WHAT CMD...: CMD restarts the service the planned way, with alice and bob
# in e2e-room. While the start waits at the gate, bob says a line and carol connects.
# Then alice and bob, never disconnected, are told they are still who and where they were;
# bob's line reaches alice once, after her notice; carol, who waited in the listen
# backlog, is welcomed; and alice and bob still chat under their names in their room.
kept_through() {
    local what=$1 before after since job ok=0 peer
    shift
    before=$(main_pid)
    since=$(inside date +%s)
    peer_mark alice bob
    close_gate || return 1
    "$@" &
    job=$!
    if wait_until 60 sub_state_is start-pre; then
        peer_say bob "said during the $what" && peer_start carol && ok=1
    else
        echo "the service did not wait at the gate: $(inside systemctl show -P SubState epollchatd.service)"
    fi
    open_gate || ok=0
    wait "$job" || { echo "$* failed"; ok=0; }
    [ "$ok" = 1 ] || { inside systemctl status --no-pager epollchatd.service; return 1; }
    for peer in alice bob; do
        peer_got "$peer" "^\\*\\*\\* Server restarted; you are still $peer in e2e-room\\.\$" || return 1
    done
    peer_got alice "^bob says >> said during the $what\$" &&
        peer_after alice '^\*\*\* Server restarted; you are still alice in e2e-room\.$' \
            "^bob says >> said during the $what\$" &&
        peer_once alice "^bob says >> said during the $what\$" || return 1
    peer_got carol '^Welcome to the chat room! Your chat ID is: Client #[0-9]+$' || return 1
    peer_stop carol
    peer_say alice "alice after the $what" && peer_got bob "^alice says >> alice after the $what\$" &&
        peer_say bob "bob after the $what" && peer_got alice "^bob says >> bob after the $what\$" || return 1
    peer_connected alice && peer_connected bob || return 1
    after=$(main_pid)
    [ "$after" != "$before" ] || { echo "MainPID $before did not change"; return 1; }
    if ! wait_until 10 journal_has "$since" 'restarting: handing on [0-9]+ clients?$' ||
        ! wait_until 10 journal_has "$since" 'restored [0-9]+ clients? from the previous process$'; then
        echo "the log does not say the sessions were handed on and restored:"
        inside journalctl --no-pager -o cat -u epollchatd.service --since "@$since"
        return 1
    fi
    step_note="MainPID $before -> $after; $(inside journalctl --no-pager -o cat -u epollchatd.service \
        --since "@$since" | grep -Eo 'restored [0-9]+ clients?' | tail -n 1)"
}

# systemctl restart: the installed client too (client A, in the lobby since
# two_clients_chat) stays connected and is told so.
restart_keeps_clients() {
    kept_through restart inside systemctl restart epollchatd.service || return 1
    kill -0 "$reader_pid" 2>/dev/null || { echo "client A exited"; return 1; }
    reader_got '^\*\*\* Server restarted; you are still Client #[0-9]+ in lobby\.$' || return 1
    if grep -q 'Server shutting down' "$run_dir/root/var/lib/e2e/a.out"; then
        echo "client A was told the server shuts down"
        return 1
    fi
}

# Reinstalling runs the package's upgrade path: the postinst's restart job (not a stop and
# a start) is a planned restart too.
reinstall_keeps_clients() {
    kept_through reinstall inside sh -c 'cd /root/debs && apt-get install -y --reinstall ./epollchatd_*.deb' ||
        return 1
    kill -0 "$reader_pid" 2>/dev/null || { echo "client A exited"; return 1; }
}

# After SIGKILL nothing was saved: systemd restarts the service (RestartSec=), and the
# connections it kept are welcomed again as new clients, with a notice saying why. A line
# bob sent while no daemon ran follows alice's new welcome.
killed_service_rewelcomes_clients() {
    local before restarts after since peer ok=0
    local failure='^\*\*\* Server restarted after a failure; you join again as a new client\.$'
    local welcome='^Welcome to the chat room! Your chat ID is: Client #[0-9]+$'
    before=$(main_pid)
    restarts=$(inside systemctl show -P NRestarts epollchatd.service)
    since=$(inside date +%s)
    peer_mark alice bob
    close_gate || return 1
    # The main process alone: that is the daemon, and killing the whole control group
    # fails with EIO on kernels whose cgroup hierarchy refuses it (the kill of the main
    # process still happens, but systemctl reports failure).
    if inside systemctl kill --kill-whom=main -s KILL epollchatd.service &&
        wait_until 60 sub_state_is start-pre; then
        peer_say bob 'said after the crash' && peer_start carol && ok=1
    else
        echo "the service did not wait at the gate: $(inside systemctl show -P SubState epollchatd.service)"
    fi
    open_gate || ok=0
    [ "$ok" = 1 ] || return 1
    wait_until 30 new_main_pid_active "$before" ||
        { inside systemctl status --no-pager epollchatd.service; return 1; }
    after=$(main_pid)
    [ "$(inside systemctl show -P NRestarts epollchatd.service)" -gt "$restarts" ] || return 1
    for peer in alice bob; do
        peer_got "$peer" "$failure" && peer_after "$peer" "$failure" "$welcome" || return 1
    done
    peer_got alice '^Client #[0-9]+ says >> said after the crash$' &&
        peer_after alice "$welcome" '^Client #[0-9]+ says >> said after the crash$' &&
        peer_once alice '^Client #[0-9]+ says >> said after the crash$' || return 1
    peer_got carol "$welcome" || return 1
    peer_stop carol
    peer_connected alice && peer_connected bob || return 1
    kill -0 "$reader_pid" 2>/dev/null || { echo "client A exited"; return 1; }
    reader_got "$failure" || return 1
    say "after kill" || return 1
    wait_until 10 journal_has "$since" \
        'no saved state \(the previous process did not stop cleanly\): [0-9]+ clients? join again$' ||
        { inside journalctl --no-pager -o cat -u epollchatd.service --since "@$since"; return 1; }
    step_note="MainPID $before -> $after"
}

# A real stop, told from a restart by the unit's job (the unit's ExecStop= asks systemd
# and stops the daemon with SIGINT): everyone is told and disconnected, the daemon does not
# hand anyone on, and the next start restores nothing.
stop_disconnects_clients() {
    local since peer ok=1
    since=$(inside date +%s)
    peer_mark alice bob
    inside systemctl stop epollchatd.service || return 1
    for peer in alice bob; do
        peer_got "$peer" '^-- end of file$' &&
            peer_after "$peer" '^\*\*\* Server shutting down\.$' '^-- end of file$' || ok=0
    done
    reader_got '^\*\*\* Server shutting down\.$' || ok=0
    wait_until 10 reader_exited || { echo "client A still runs"; ok=0; }
    reader_pid=
    exec 7>&-
    stop_peers
    if journal_has "$since" 'restarting: handing on'; then
        echo "the daemon took the stop for a restart"
        ok=0
    fi
    remove_gate
    inside systemctl start epollchatd.service || return 1
    # A client of the new process is simply welcomed: nothing was restored.
    peer_start dave && peer_got dave '^Welcome to the chat room!' || return 1
    if ! sed -n 2p "$run_dir/dave.out" | grep -q '^Welcome to the chat room!'; then
        echo "dave's first line is not the welcome:"
        cat "$run_dir/dave.out"
        ok=0
    fi
    peer_stop dave
    [ "$ok" = 1 ]
}

reader_exited() { ! kill -0 "$reader_pid" 2>/dev/null; }

new_main_pid_active() {

    local pid
    pid=$(main_pid)
    [ "$pid" != 0 ] && [ "$pid" != "$1" ] &&
        [ "$(inside systemctl is-active epollchatd.service)" = active ]
}

socket_activates() {
    exec 7>&-
    reader_pid=
    inside systemctl stop epollchatd.service || return 1
    inside systemctl start epollchatd.socket || return 1
    [ "$(inside systemctl is-active epollchatd.service)" != active ] ||
        { echo "the service is still active"; return 1; }
    # First connection: bash's /dev/tcp inside the container reads the welcome.
    local line
    line=$(inside timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && head -n1 <&3") || return 1
    echo "$line"
    case $line in
        "Welcome to the chat room! Your chat ID is: Client #"*) ;;
        *) return 1 ;;
    esac
    wait_until 10 service_active || return 1
    local trigger
    trigger=$(inside systemctl show -P TriggeredBy epollchatd.service)
    step_note="inactive until the first connection, then started by ${trigger:-?}"
    # The next step uses the socket-activated service, and then goes back to the packaged
    # setup.
}

# The file descriptor store and socket activation together: the restarted daemon gets the
# socket unit's listeners and the stored client sockets, and keeps the client.
socket_activated_restart_keeps_client() {
    local before after ok=0
    if [ "$(inside systemctl is-active epollchatd.socket)" != active ] || ! service_active; then
        echo "epollchatd.socket and the service it started are not both active"
    elif peer_start erin && peer_got erin '^Welcome to the chat room!' &&
        peer_say erin '/nick erin' && peer_got erin '^\*\*\* You are now known as erin\.$'; then
        before=$(main_pid)
        peer_mark erin
        if inside systemctl restart epollchatd.service &&
            peer_got erin '^\*\*\* Server restarted; you are still erin in lobby\.$' &&
            peer_connected erin; then
            after=$(main_pid)
            if [ "$after" != "$before" ]; then
                ok=1
                step_note="MainPID $before -> $after"
            else
                echo "MainPID $before did not change"
            fi
        fi
    fi
    peer_stop erin
    # Back to the packaged setup: the socket off, the service running.
    inside systemctl stop epollchatd.socket epollchatd.service || return 1
    inside systemctl start epollchatd.service || return 1
    [ "$ok" = 1 ]
}

service_active() { [ "$(inside systemctl is-active epollchatd.service)" = active ]; }

# journal_has SINCE REGEX: the service's log since SINCE (epoch seconds) matches REGEX.
journal_has() {
    inside journalctl --no-pager -o cat -u epollchatd.service --since "@$1" | grep -Eq -- "$2"
}

# The documented way to give the daemon a Redis password: a root-only file passed as the
# systemd credential redis-password by a drop-in. There is no Redis in the container, so
# the link stays down; what shows that the daemon reads the credential under DynamicUser=
# is that a malformed one stops it at start (configuration error, naming the credential's
# path) and a good one lets it run and try Redis, without the password in the log.
credential_reaches_daemon() {
    local etc=$run_dir/root/etc
    local dropin=$etc/systemd/system/epollchatd.service.d/e2e-credential.conf
    local since ok=0
    cp "$etc/epollchatd/epollchatd.conf" "$run_dir/epollchatd.conf.saved"
    echo 'redis = 127.0.0.1:1' >>"$etc/epollchatd/epollchatd.conf"
    (umask 077 && printf 'e2e-secret-one\ne2e-secret-two\n' >"$etc/epollchatd/redis-password")
    mkdir -p "${dropin%/*}"
    printf '[Service]\nLoadCredential=redis-password:/etc/epollchatd/redis-password\n' >"$dropin"
    inside systemctl daemon-reload
    since=$(inside date +%s)
    if inside systemctl restart epollchatd.service; then
        echo "the service started with a two-line password"
    elif wait_until 10 journal_has "$since" \
        'redis password file /run/credentials/epollchatd.service/redis-password holds more than one line'; then
        (umask 077 && printf 'e2e-secret-one\n' >"$etc/epollchatd/redis-password")
        inside systemctl reset-failed epollchatd.service
        since=$(inside date +%s)
        if inside systemctl restart epollchatd.service &&
            wait_until 10 journal_has "$since" 'link to Redis at 127\.0\.0\.1:1 not available'; then
            if journal_has 0 'e2e-secret'; then
                echo "the password is in the log"
            else
                ok=1
            fi
        fi
    else
        echo "no complaint about the two-line credential in the log"
    fi
    [ "$ok" = 1 ] || inside journalctl --no-pager -o cat -u epollchatd.service --since "@$since"
    # Back to the packaged setup.
    cp "$run_dir/epollchatd.conf.saved" "$etc/epollchatd/epollchatd.conf"
    rm -f "$dropin" "$etc/epollchatd/redis-password"
    inside systemctl daemon-reload
    inside systemctl reset-failed epollchatd.service
    inside systemctl restart epollchatd.service || return 1
    [ "$ok" = 1 ] && step_note="read from /run/credentials, not logged"
}

# TLS as the documentation sets it up: a certificate and key handed to the service as the
# credentials tls-cert and tls-key by a drop-in (the key stays readable by root alone), and
# tls-port in the config. An encrypted epollchat and a plain one chat in one room; a client
# that cannot verify the certificate gives up with the cannot-connect status.
tls_clients_chat() {
    local etc=$run_dir/root/etc
    local dropin=$etc/systemd/system/epollchatd.service.d/e2e-tls.conf
    local tls_port status_text ok=0 refused_status=0
    for _ in $(seq 50); do
        tls_port=$((20000 + RANDOM % 20000))
        [ "$tls_port" != "$port" ] && ! port_is_listening "$tls_port" && break
    done
    mkdir -p "$etc/epollchatd/tls"
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$etc/epollchatd/tls/key.pem" -out "$etc/epollchatd/tls/cert.pem" -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>&1) || return 1
    chmod 644 "$etc/epollchatd/tls/cert.pem"
    cp "$etc/epollchatd/epollchatd.conf" "$run_dir/epollchatd.conf.saved"
    echo "tls-port = $tls_port" >>"$etc/epollchatd/epollchatd.conf"
    mkdir -p "${dropin%/*}"
    printf '[Service]\nLoadCredential=tls-cert:/etc/epollchatd/tls/cert.pem\nLoadCredential=tls-key:/etc/epollchatd/tls/key.pem\n' >"$dropin"
    inside systemctl daemon-reload
    exec 7>&-
    reader_pid=
    if inside systemctl restart epollchatd.service && start_reader; then
        status_text=$(inside systemctl show -P StatusText epollchatd.service)
        echo "StatusText: $status_text"
        if printf 'hello over TLS\n' | inside timeout 10 epollchat --tls \
            --tls-ca /etc/epollchatd/tls/cert.pem 127.0.0.1 "$tls_port" &&
            reader_got '^Client #[0-9]+ says >> hello over TLS$'; then
            # The system's CA store does not know the self-signed certificate.
            printf 'never sent\n' | inside timeout 10 epollchat --tls 127.0.0.1 "$tls_port" ||
                refused_status=$?
            if [ "$refused_status" = 2 ] && ! grep -q 'never sent' "$run_dir/root/var/lib/e2e/a.out"; then
                ok=1
            else
                echo "an unverifiable certificate: exit status $refused_status, expected 2"
            fi
        fi
    fi
    # A restart cannot hand an encrypted session on: the TLS client is asked to reconnect
    # and closed, while the plain one (client A) stays.
    if [ "$ok" = 1 ]; then
        ok=0
        if peer_start tls-peer "$tls_port" "$etc/epollchatd/tls/cert.pem" &&
            peer_got tls-peer '^Welcome to the chat room!' &&
            inside systemctl restart epollchatd.service &&
            peer_got tls-peer '^-- end of file$' &&
            peer_after tls-peer '^\*\*\* Server restarting; please reconnect\.$' '^-- end of file$' &&
            reader_got '^\*\*\* Server restarted; you are still Client #[0-9]+ in lobby\.$'; then
            ok=1
        fi
        peer_stop tls-peer
    fi
    [ "$ok" = 1 ] || inside journalctl --no-pager -o cat -u epollchatd.service -n 30
    # Back to the packaged setup.
    exec 7>&-
    reader_pid=
    cp "$run_dir/epollchatd.conf.saved" "$etc/epollchatd/epollchatd.conf"
    rm -rf "$dropin" "$etc/epollchatd/tls"
    inside systemctl daemon-reload
    inside systemctl reset-failed epollchatd.service
    inside systemctl restart epollchatd.service || return 1
    [ "$ok" = 1 ] && step_note="plain and TLS in one room, TLS asked to reconnect on restart; ${status_text%%,*}"
}

# --- Boot and restart ----------------------------------------------------------

# An address that no interface has until the step adds it to lo (the container shares
# the host's network namespace); 10.0.0.0/8 is in the service's default allow list.
readonly LATE_ADDRESS=10.77.0.1

remove_late_address() {
    [ -n "$late_address" ] || return 0
    ip addr del "$late_address/32" dev lo
    late_address=
}

# hold_port PORT: a process on the host listens on 127.0.0.1:PORT until release_port.
# SO_REUSEADDR, as the daemon's, so that the connections the daemon left in TIME_WAIT do
# not stop it; two listeners on one address and port are refused all the same.
hold_port() {
    # Removed first: the redirection below truncates it only once the background job runs,
    # and a line left by an earlier holder must not pass for this one's.
    rm -f "$run_dir/holder.out"
    python3 -c 'import signal, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("holding", flush=True)
signal.pause()' "$1" </dev/null >"$run_dir/holder.out" 2>&1 &
    holder_pid=$!
    wait_until 10 file_has "$run_dir/holder.out" '^holding$' || { cat "$run_dir/holder.out"; return 1; }
}

release_port() {
    [ -n "$holder_pid" ] || return 0
    kill "$holder_pid" 2>/dev/null
    wait "$holder_pid" 2>/dev/null
    holder_pid=
}

# welcome_at HOST PORT: a connection from inside the container is welcomed.
welcome_at() {
    local line
    line=$(inside timeout 10 bash -c "exec 3<>/dev/tcp/$1/$2 && head -n1 <&3") || return 1
    echo "$line"
    case $line in
        "Welcome to the chat room! Your chat ID is: Client #"*) ;;
        *) return 1 ;;
    esac
}

# Back to the packaged setup after a step that changed the config or added a drop-in.
restore_service() {
    local etc=$run_dir/root/etc
    [ ! -f "$run_dir/epollchatd.conf.before-step" ] ||
        mv "$run_dir/epollchatd.conf.before-step" "$etc/epollchatd/epollchatd.conf"
    rm -f "$etc/systemd/system/epollchatd.service.d/low-port.conf"
    inside systemctl daemon-reload
    inside systemctl reset-failed epollchatd.service
    inside systemctl restart epollchatd.service
}

# "listen" names an address that appears only after the service started, as one from
# DHCP at boot would: the daemon binds it all the same (IP_FREEBIND), is active at once,
# and serves clients through it once the address exists.
late_address_serves() {
    local etc=$run_dir/root/etc ok=0 status_text
    if [ -n "$(ip -o addr show to "$LATE_ADDRESS")" ]; then
        echo "$LATE_ADDRESS is already on the host"
        return 1
    fi
    cp "$etc/epollchatd/epollchatd.conf" "$run_dir/epollchatd.conf.before-step"
    echo "listen = $LATE_ADDRESS" >>"$etc/epollchatd/epollchatd.conf"
    exec 7>&-
    reader_pid=
    if inside systemctl restart epollchatd.service && service_active; then
        status_text=$(inside systemctl show -P StatusText epollchatd.service)
        echo "StatusText: $status_text"
        late_address=$LATE_ADDRESS
        if [ "$status_text" != "Listening on $LATE_ADDRESS:$port" ]; then
            echo "expected: Listening on $LATE_ADDRESS:$port"
        elif ip addr add "$LATE_ADDRESS/32" dev lo && welcome_at "$LATE_ADDRESS" "$port"; then
            ok=1
        fi
    fi
    [ "$ok" = 1 ] || inside systemctl status --no-pager epollchatd.service
    remove_late_address
    restore_service || return 1
    [ "$ok" = 1 ] && step_note="active before $LATE_ADDRESS existed, welcomed after it was added"
}

# The port is taken: the start fails and says why at err priority, where
# "journalctl -p err" and "systemctl status" look.
port_taken_logged_at_err() {
    local since ok=0 errors
    exec 7>&-
    reader_pid=
    inside systemctl stop epollchatd.service || return 1
    hold_port "$port" || { release_port; restore_service; return 1; }
    since=$(inside date +%s)
    if inside systemctl start epollchatd.service; then
        echo "the service started with 127.0.0.1:$port taken"
    elif wait_until 10 err_journal_has "$since" "cannot listen on 127\.0\.0\.1:$port: Address already in use"; then
        ok=1
    else
        echo "journalctl -p err -u epollchatd:"
        inside journalctl --no-pager -p err -u epollchatd.service --since "@$since"
        echo "the whole log:"
        inside journalctl --no-pager -o cat -u epollchatd.service --since "@$since"
    fi
    errors=$(inside journalctl --no-pager -o cat -p err -u epollchatd.service --since "@$since" | grep -c 'cannot listen')
    release_port
    restore_service || return 1
    [ "$ok" = 1 ] && step_note="$errors 'cannot listen' line(s) at err"
}

# err_journal_has SINCE REGEX: a line of the service at priority err or worse.
err_journal_has() {
    inside journalctl --no-pager -o cat -p err -u epollchatd.service --since "@$1" | grep -Eq -- "$2"
}

# The port stays taken while systemd restarts the service a few times, each failure
# logged with its reason, and the unit keeps retrying instead of locking itself; once the
# port is free, "systemctl restart" works at once, without "Start request repeated too
# quickly". (Between two attempts systemd 252's "systemctl status" lists only the lines
# since the last failure, so the reason is looked for with journalctl.)
port_freed_restart_works() {
    local since ok=0 restarts status
    exec 7>&-
    reader_pid=
    inside systemctl stop epollchatd.service || return 1
    hold_port "$port" || { release_port; restore_service; return 1; }
    since=$(inside date +%s)
    inside systemctl start epollchatd.service && echo "the service started with 127.0.0.1:$port taken"
    # Two automatic restarts (RestartSec= apart) failed as well: more starts than the
    # defaults allowed before they locked "systemctl restart" out.
    if wait_until 40 restarted_failing 3; then
        restarts=$(inside systemctl show -P NRestarts epollchatd.service)
        status=$(inside systemctl status --no-pager epollchatd.service)
        printf '%s\n' "$status"
        if ! grep -q 'Active: activating (auto-restart) (Result: exit-code)' <<<"$status"; then
            echo "systemctl status does not show the service retrying"
        elif ! wait_until 10 journal_has "$since" "cannot listen on 127\.0\.0\.1:$port: Address already in use"; then
            echo "the journal does not say why the service does not start"
        else
            release_port
            if inside systemctl restart epollchatd.service && service_active && welcome_at 127.0.0.1 "$port"; then
                ok=1
            fi
        fi
    else
        echo "no third failed start: NRestarts=$(inside systemctl show -P NRestarts epollchatd.service)"
        inside systemctl status --no-pager epollchatd.service
    fi
    if journal_has "$since" 'Start request repeated too quickly'; then
        echo "the start limit was hit"
        ok=0
    fi
    release_port
    restore_service || return 1
    [ "$ok" = 1 ] && step_note="restarted at once after $restarts automatic restarts"
}

# restarted_failing N: at least N starts failed, and the service is between two of them.
restarted_failing() {
    [ "$(inside systemctl show -P NRestarts epollchatd.service)" -ge "$(($1 - 1))" ] &&
        [ "$(inside systemctl show -P SubState epollchatd.service)" = auto-restart ]
}

# A broken configuration file stops the start with status 78, names the file and line, and
# is not restarted (the check before the start must not defeat RestartPreventExitStatus=).
broken_config_not_restarted() {
    local etc=$run_dir/root/etc since state ok=0
    cp "$etc/epollchatd/epollchatd.conf" "$run_dir/epollchatd.conf.before-step"
    echo "e2e-unknown-key = 1" >>"$etc/epollchatd/epollchatd.conf"
    exec 7>&-
    reader_pid=
    since=$(inside date +%s)
    if inside systemctl restart epollchatd.service; then
        echo "the service started with an unknown key in its configuration"
    else
        # Restart= decides when the start fails: auto-restart, or failed for good.
        state=$(for property in ActiveState SubState ExecMainStatus; do
            inside systemctl show -P "$property" epollchatd.service; done | paste -sd ' ')
        echo "ActiveState SubState ExecMainStatus: $state"
        case $state in
            "failed failed 78")
                wait_until 10 journal_has "$since" \
                    "/etc/epollchatd/epollchatd\.conf:[0-9]+: unknown key 'e2e-unknown-key'" && ok=1 ;;
        esac
    fi
    [ "$ok" = 1 ] || inside systemctl status --no-pager epollchatd.service
    restore_service || return 1
    [ "$ok" = 1 ] && step_note="failed with 78, not restarted"
}

# A port below 1024 the way the unit's comment says: its drop-in, a restart, and two
# clients chat on that port. The drop-in is read from the installed unit, so the test
# proves the recipe the admin reads.
low_port_chats() {
    local etc=$run_dir/root/etc low='' recipe exec_start ok=0
    local dropin=$etc/systemd/system/epollchatd.service.d/low-port.conf
    for candidate in 80 $(seq 1000 1023); do
        port_is_listening "$candidate" || { low=$candidate; break; }
    done
    [ -n "$low" ] || { echo "no free port below 1024"; return 1; }
    # The block of "#   " lines in the unit's comments that grants CAP_NET_BIND_SERVICE.
    recipe=$(awk '/^#   / { block = block substr($0, 5) "\n"; next }
        { if (block ~ /CAP_NET_BIND_SERVICE/) { printf "%s", block; exit } block = "" }' \
        "$run_dir/root/lib/systemd/system/epollchatd.service")
    printf 'recipe:\n%s\n' "$recipe"
    case $recipe in
        "[Service]"*) ;;
        *) echo "no drop-in for CAP_NET_BIND_SERVICE in the unit's comments"; return 1 ;;
    esac
    cp "$etc/epollchatd/epollchatd.conf" "$run_dir/epollchatd.conf.before-step"
    echo "port = $low" >>"$etc/epollchatd/epollchatd.conf"
    # After e2e-port.conf, if the test moved the service off a taken default port: the
    # packaged command line, so that the config's port counts.
    exec_start=$(grep '^ExecStart=' "$run_dir/root/lib/systemd/system/epollchatd.service" | head -n1)
    printf '%s\nExecStart=\n%s\n' "$recipe" "$exec_start" >"$dropin"
    inside systemctl daemon-reload
    exec 7>&-
    reader_pid=
    # The reader and the sayer use $port.
    local port=$low
    if inside systemctl restart epollchatd.service && start_reader; then
        say "hello on port $low" && reader_got "^Client #[0-9]+ says >> hello on port $low\$" && ok=1
    fi
    [ "$ok" = 1 ] || inside journalctl --no-pager -o cat -u epollchatd.service -n 20
    exec 7>&-
    reader_pid=
    restore_service || return 1
    [ "$ok" = 1 ] && step_note="port $low"
}

security_report() {
    local out exposure
    out=$(inside systemd-analyze security --no-pager epollchatd.service 2>&1) || { echo "$out"; return 1; }
    printf '%s\n' "$out"
    exposure=$(printf '%s\n' "$out" | grep -o 'Overall exposure level for epollchatd.service: .*') || return 1
    step_note=${exposure#Overall exposure level for }
}

purge_packages() {
    inside apt-get purge -y epollchatd epollchat || return 1
    local bad=0
    rm -rf "$run_dir/root/etc/systemd/system/epollchatd.service.d" \
        "$run_dir/root/etc/systemd/system/epollchatd.socket.d"
    inside systemctl daemon-reload
    [ ! -e "$run_dir/root/etc/epollchatd" ] || { echo "/etc/epollchatd is still there"; bad=1; }
    [ ! -e "$run_dir/root/usr/sbin/epollchatd" ] || { echo "/usr/sbin/epollchatd is still there"; bad=1; }
    [ "$(inside systemctl show -P LoadState epollchatd.service)" = not-found ] ||
        { echo "epollchatd.service is still known"; bad=1; }
    [ "$(inside systemctl show -P LoadState epollchatd.socket)" = not-found ] ||
        { echo "epollchatd.socket is still known"; bad=1; }
    [ ! -e "$run_dir/root/etc/systemd/system/multi-user.target.wants/epollchatd.service" ] ||
        { echo "the enablement symlink is still there"; bad=1; }
    [ "$(inside systemctl show -P ActiveState epollchatd.service)" = inactive ] ||
        { echo "epollchatd.service is not inactive"; bad=1; }
    if inside pgrep -x epollchatd; then echo "an epollchatd process is still running"; bad=1; fi
    cmp "$run_dir/passwd.before" "$run_dir/root/etc/passwd" || { echo "/etc/passwd changed"; bad=1; }
    cmp "$run_dir/group.before" "$run_dir/root/etc/group" || { echo "/etc/group changed"; bad=1; }
    # shellcheck disable=SC2016  # a dpkg-query format, not shell
    inside dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' epollchatd epollchat 2>&1 |
        grep -v '^un ' | grep -v 'no packages found' && { echo "packages left in dpkg's database"; bad=1; }
    return $bad
}

power_off() {
    inside systemctl poweroff
    timeout 60 tail --pid="$nspawn_pid" -f /dev/null || { echo "the container did not power off in 60 s"; return 1; }
    local rc=0
    wait "$nspawn_pid" || rc=$?
    nspawn_pid=
    step_note="systemd-nspawn exited $rc"
    [ "$rc" -eq 0 ] || { tail -n 30 "$run_dir/console.log"; return 1; }
}

# --- Run ---------------------------------------------------------------------

start=$SECONDS
port=
debs=

step "host can run the test (root, tools)" check_host || bail "cannot run the end-to-end test here"
step "build the .debs with tools/build-debs" build_debs || bail "no packages"
step "Debian 12 root ready" prepare_root || bail "no root for the container"
step "choose the service port on the host" choose_port || bail "no free port"
step "boot the root with systemd-nspawn --boot" boot_container || bail "the container did not boot"
step "apt install ./epollchatd_*.deb ./epollchat_*.deb" install_debs || bail "install failed"
step "systemctl is-active epollchatd" service_is_active
step "reinstall (the upgrade path) restarts the service" upgrade_restarts
step "two epollchat sessions chat through the installed daemon" two_clients_chat
step "man epollchatd renders" man_renders
step "systemctl reload keeps a connected client connected" reload_keeps_clients
step "raw clients alice and bob take nicknames and meet in a room" peers_meet_in_a_room
step "systemctl restart keeps the clients, their names and room; a line sent meanwhile follows" restart_keeps_clients
step "apt install --reinstall keeps the clients, their names and room; a line sent meanwhile follows" reinstall_keeps_clients
step "systemctl kill -s KILL: an automatic restart welcomes the same connections again" killed_service_rewelcomes_clients
step "systemctl stop tells the clients the server shuts down and closes them" stop_disconnects_clients
step "epollchatd.socket starts the daemon on the first connection" socket_activates
step "under socket activation, systemctl restart keeps a connected client" socket_activated_restart_keeps_client
step "a Redis password given as a systemd credential reaches the daemon" credential_reaches_daemon
step "TLS with the certificate as credentials: epollchat --tls chats with a plain client; a restart asks TLS clients to reconnect" tls_clients_chat
step "listen on an address added after the start: active at once, serving once it exists" late_address_serves
step "with the port taken, journalctl -p err -u epollchatd says cannot listen" port_taken_logged_at_err
step "with the port taken and freed after automatic restarts, systemctl restart works" port_freed_restart_works
step "a broken epollchatd.conf is named and not restarted" broken_config_not_restarted
step "the unit's drop-in for a port below 1024: two clients chat on it" low_port_chats
step "systemd-analyze security epollchatd" security_report
step "debian/tests/control (autopkgtest) passes in the container" "$srcdir/tests/e2e/run-debian-tests.py" "$container_pid" "$run_dir/root" "$port"
step "apt purge removes the service, the conffile and leaves no user" purge_packages
step "the container powers off cleanly" power_off
n=$((n + 1))
if [ "$failed" -eq 0 ]; then
    echo "ok $n - all steps passed in $((SECONDS - start)) s"
else
    echo "not ok $n - $failed step(s) failed in $((SECONDS - start)) s"
fi
[ "$failed" -eq 0 ]
