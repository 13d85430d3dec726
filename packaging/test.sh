#!/usr/bin/env bash
# packaging/test.sh DIST VERSION [DEB_VERSION]: checks the Debian packages that
# `make package` wrote (make package-test, part of make test).
#
#  - each package's control fields, file list, modes and conffile
#    (dpkg-deb -f/-c), its jambridge built for its architecture, jamrelay
#    static, and every shared library jambridge needs (readelf -d)
#    provided by a package of Depends (dpkg -S on this machine);
#  - the amd64 package in a throwaway overlay of this machine's root (a
#    private mount namespace: nothing of it reaches the machine): installed
#    (the service user in the audio group, the config readable by it
#    only), its units checked with `systemd-analyze verify`, installed
#    again over an edited config (kept), then purged (user, config and
#    files gone).
#
# Prints "N passed, N failed" last; exits 1 on any failure.
set -uo pipefail
DIST=${1:?usage: packaging/test.sh DIST VERSION}
GITVERSION=${2:?usage: packaging/test.sh DIST VERSION (as git describe gives it)}
# Debian's form of it, as make computed it for the file names (or again).
VERSION=${3:-$(sh "$(dirname "$0")/debversion.sh" "$GITVERSION")}
PATH=$PATH:/usr/sbin:/sbin
passed=0 failed=0

check() { # check NAME COMMAND...: one named check
	local name=$1
	shift
	if out=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name"
		[ -n "$out" ] && echo "$out" | sed 's/^/     /'
	fi
}

field_is() { # field_is DEB FIELD WANT
	local got
	got=$(dpkg-deb -f "$1" "$2")
	[ "$got" = "$3" ] || { echo "$2: got \"$got\", want \"$3\""; return 1; }
}

# has_files DEB: the files and their modes, as `dpkg-deb -c` lists them.
has_files() {
	local list want line
	list=$(dpkg-deb -c "$1" | awk '{print $1, $6}')
	want=(
		"-rwxr-xr-x ./usr/bin/jambridge" "-rwxr-xr-x ./usr/bin/jamrelay"
		"-rw-r--r-- ./lib/systemd/system/jambridge.service"
		"-rw-r--r-- ./lib/systemd/system/jambridge-fluidsynth.service"
		"-rw-r--r-- ./etc/jambridge/jambridge.yaml"
	)
	for f in raspberry-pi.yaml keyboard.yaml drumpad.yaml daw.yaml README.md jambridge.service fluidsynth.service; do
		want+=("-rw-r--r-- ./usr/share/doc/jambridge/examples/$f")
	done
	for line in "${want[@]}"; do
		grep -qxF -e "$line" <<<"$list" || { echo "missing: $line"; echo "$list"; return 1; }
	done
}

conffile() { # conffile DEB: /etc/jambridge/jambridge.yaml is the only conffile
	local got
	got=$(dpkg-deb --ctrl-tarfile "$1" | tar -xO ./conffiles)
	[ "$got" = /etc/jambridge/jambridge.yaml ] || { echo "conffiles: got \"$got\""; return 1; }
}

unit_paths() { # unit_paths DEB: the packaged unit runs the packaged binary
	grep -qx 'ExecStart=/usr/bin/jambridge run --config /etc/jambridge/jambridge.yaml' "$X/lib/systemd/system/jambridge.service" ||
		{ grep ExecStart "$X/lib/systemd/system/jambridge.service"; return 1; }
}

machine() { # machine FILE WANT: the ELF machine of a binary
	local got
	got=$(readelf -h "$1" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}')
	[ "$got" = "$2" ] || { echo "$1: machine \"$got\", want \"$2\""; return 1; }
}

static() { # static FILE: no interpreter, no shared library
	! readelf -l "$1" | grep -q 'INTERP' && ! readelf -d "$1" 2>/dev/null | grep -q NEEDED ||
		{ readelf -d "$1"; return 1; }
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort; }

# depends_cover DEB BINARY: each library the binary needs comes from a
# package its Depends names (the amd64 library's package on this machine).
depends_cover() {
	local deps lib path pkg
	deps=$(dpkg-deb -f "$1" Depends | tr ',' '\n' | awk '{print $1}')
	for lib in $(needed "$2"); do
		path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
		[ -n "$path" ] || { echo "$lib: not on this machine (ldconfig -p)"; return 1; }
		pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$pkg" ] || pkg=$(dpkg -S "$path" | head -1 | cut -d: -f1)
		grep -qx "$pkg" <<<"$deps" || { echo "$lib is in package $pkg, which Depends ($(echo $deps)) does not name"; return 1; }
	done
}

same_needs() { # same_needs A B: both binaries need the same libraries
	[ "$(needed "$1")" = "$(needed "$2")" ] || { echo "$1: $(needed "$1" | xargs)"; echo "$2: $(needed "$2" | xargs)"; return 1; }
}

version_out() { # version_out BINARY: --version prints the git version
	local got
	got=$("$1" --version)
	grep -qF "$GITVERSION" <<<"$got" || { echo "$1 --version: \"$got\", want $GITVERSION in it"; return 1; }
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
declare -A MACHINE=([amd64]="Advanced Micro Devices X86-64" [arm64]="AArch64")
for arch in amd64 arm64; do
	deb=$DIST/jambridge_${VERSION}_$arch.deb
	X=$TMP/$arch
	check "$arch: $deb exists" test -f "$deb" || continue
	dpkg-deb -x "$deb" "$X"
	check "$arch: Package" field_is "$deb" Package jambridge
	check "$arch: Version" field_is "$deb" Version "$VERSION"
	check "$arch: Architecture" field_is "$deb" Architecture "$arch"
	check "$arch: files and modes" has_files "$deb"
	check "$arch: conffile" conffile "$deb"
	check "$arch: unit runs /usr/bin/jambridge" unit_paths "$deb"
	check "$arch: jambridge is $arch" machine "$X/usr/bin/jambridge" "${MACHINE[$arch]}"
	check "$arch: jamrelay is $arch" machine "$X/usr/bin/jamrelay" "${MACHINE[$arch]}"
	check "$arch: jamrelay is static" static "$X/usr/bin/jamrelay"
done
if [ -d "$TMP/amd64" ] && [ -d "$TMP/arm64" ]; then
	check "amd64: Depends covers what jambridge links" depends_cover "$DIST/jambridge_${VERSION}_amd64.deb" "$TMP/amd64/usr/bin/jambridge"
	check "arm64: jambridge links what amd64's does" same_needs "$TMP/amd64/usr/bin/jambridge" "$TMP/arm64/usr/bin/jambridge"
	check "amd64: jambridge --version" version_out "$TMP/amd64/usr/bin/jambridge"
	check "amd64: jamrelay --version" version_out "$TMP/amd64/usr/bin/jamrelay"
fi

# --- installed in a throwaway root ---------------------------------------
deb=$(readlink -f "$DIST/jambridge_${VERSION}_amd64.deb")
if [ -f "$deb" ]; then
	mkdir -p "$TMP/ov"/{upper,work,root}
	cp "$deb" "$TMP/jambridge.deb"
	# The next version: the same package with a higher version and a
	# changed default config (dpkg must keep the user's edit, not take it).
	dpkg-deb -R "$deb" "$TMP/next"
	sed -i 's/^Version: .*/&+next1/' "$TMP/next/DEBIAN/control"
	echo "# a new default" >>"$TMP/next/etc/jambridge/jambridge.yaml"
	(cd "$TMP/next" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | xargs -0 md5sum >DEBIAN/md5sums)
	dpkg-deb -b --root-owner-group "$TMP/next" "$TMP/jambridge-next.deb" >/dev/null
	out=$(unshare -m --propagation private bash -s "$TMP" <<'INNER' 2>&1
set -u
T=$1 R=$1/ov/root
mount -t overlay overlay -o lowerdir=/,upperdir=$T/ov/upper,workdir=$T/ov/work "$R" || exit 3
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mkdir -p "$R/tmp/pkg" && mount --bind "$T" "$R/tmp/pkg"
chroot "$R" /bin/bash -s <<'CHROOT'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
say() { echo "$1 $2"; }
t() { local n=$1; shift; if o=$("$@" 2>&1); then say ok "$n"; else say FAIL "$n"; echo "$o" | sed 's/^/     /'; fi; }
dpkg -r jambridge >/dev/null 2>&1; userdel jambridge >/dev/null 2>&1
t "install: dpkg -i" dpkg -i /tmp/pkg/jambridge.deb
t "install: user jambridge, primary group audio" sh -c '[ "$(id -gn jambridge)" = audio ]'
t "install: user jambridge is a system user without a shell" sh -c 'getent passwd jambridge | grep -q ":/usr/sbin/nologin$" && [ "$(id -u jambridge)" -lt 1000 ]'
t "install: config root:audio 640" sh -c '[ "$(stat -c "%U:%G %a" /etc/jambridge/jambridge.yaml)" = "root:audio 640" ]'
t "install: the service user can read the config" su -s /bin/sh -c 'cat /etc/jambridge/jambridge.yaml >/dev/null' jambridge
t "install: jambridge on PATH" sh -c 'jambridge --version | grep -q jambridge'
if command -v systemd-analyze >/dev/null; then
	t "install: systemd-analyze verify jambridge.service" systemd-analyze verify /lib/systemd/system/jambridge.service
	if command -v fluidsynth >/dev/null; then
		t "install: systemd-analyze verify jambridge-fluidsynth.service" systemd-analyze verify /lib/systemd/system/jambridge-fluidsynth.service
	fi
fi
echo "room: OUR-BAND # edited" >>/etc/jambridge/jambridge.yaml
t "upgrade: dpkg -i the next version (--force-confold: keep the edited conffile, the default answer of dpkg's question)" dpkg -i --force-confold /tmp/pkg/jambridge-next.deb
t "upgrade: the next version is installed" sh -c 'dpkg-query -W -f "\${Version}" jambridge | grep -q "+next1$"'
t "upgrade: the edited config is kept" grep -q "room: OUR-BAND # edited" /etc/jambridge/jambridge.yaml
t "upgrade: the new default is beside it" test -f /etc/jambridge/jambridge.yaml.dpkg-dist
t "remove: dpkg -r" dpkg -r jambridge
t "remove: the config stays" test -f /etc/jambridge/jambridge.yaml
t "remove: the binary is gone" test ! -e /usr/bin/jambridge
t "purge: dpkg --purge" dpkg --purge jambridge
t "purge: the config is gone" test ! -e /etc/jambridge
t "purge: the user is gone" sh -c '! getent passwd jambridge'
CHROOT
INNER
)
	echo "$out" | grep -E '^(ok|FAIL) |^     ' || true
	passed=$((passed + $(grep -c '^ok ' <<<"$out")))
	n=$(grep -c '^FAIL ' <<<"$out")
	failed=$((failed + n))
	if ! grep -q '^ok install: dpkg -i' <<<"$out" && [ "$n" = 0 ]; then
		echo "FAIL install in an overlay root: $out"
		failed=$((failed + 1))
	fi
fi
echo "packages: $passed passed, $failed failed"
[ "$failed" = 0 ]
