#!/usr/bin/env bash
# make test-hw: the bridge against a real ALSA sequencer and an emulated
# USB MIDI keyboard, in a virtual machine booted from Debian's own kernel.
#
#   hwtest/run.sh [go test flags for the guest, e.g. -test.run 'Permission|Ports']
#   HWTEST='-test.run JamSession' hwtest/run.sh      (the same, as make test-hw passes them)
#
# It installs what is missing (qemu, busybox, alsa-utils, a kernel image)
# from the machine's Debian packages, builds jambridge, jamrelay and the
# guest test binary, packs them with busybox, the sound and USB gadget
# modules and the libraries they link into an initramfs, boots it under
# qemu and checks the result the guest prints on its serial console.
# Where qemu or the kernel cannot be had, it says so and skips (exit 0;
# exit 1 with HWTEST_REQUIRE=1, as CI runs it, so CI never passes a skip).
set -euo pipefail
cd "$(dirname "$0")/.."

PATH=$PATH:/usr/sbin:/sbin # modprobe, depmod: not on a user's PATH on Debian
GO=${GO:-go}
WORK=${HWTEST_WORK:-bin/hwtest}
# Seconds for the whole boot and test run: a guard against a hung VM, not
# a speed check (35 s to 2.5 min on 2 cores at a host load of 5 to 15).
# The guest's go test gets 600 s (hwtest/init), this a bit more.
TIMEOUT=${HWTEST_TIMEOUT:-660}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

say() { echo "test-hw: $*"; }
skip() {
	say "SKIPPED: $*"
	say "the hardware-in-the-loop tests did not run"
	if [ "${HWTEST_REQUIRE:-}" = 1 ]; then
		say "FAIL: HWTEST_REQUIRE=1 (CI) does not accept a skip"
		exit 1
	fi
	exit 0
}

# Sound and USB modules the scenarios load, each with its dependencies.
MODULES=(snd-seq-dummy snd-virmidi snd-seq-midi dummy_hcd libcomposite usb_f_midi snd-usb-audio)

# --- what the host needs --------------------------------------------------

# apt_install installs Debian packages, refreshing the package lists only
# when a first try finds them stale.
apt_install() {
	command -v apt-get >/dev/null || return 1
	say "installing $* (Debian packages)"
	local apt=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends)
	"${apt[@]}" "$@" >/dev/null 2>&1 && return 0
	$SUDO apt-get update -qq && "${apt[@]}" "$@" >/dev/null
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# need_tools installs qemu, a static busybox (the VM has no libc of its
# own) and alsa-utils (amidi, aconnect) when missing.
need_tools() {
	command -v dpkg-query >/dev/null || skip "this is not a Debian/Ubuntu machine: install qemu-system-x86, a static busybox and alsa-utils, and a Debian kernel image, by hand"
	local missing=() p
	for p in qemu-system-x86 busybox-static alsa-utils; do
		installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	apt_install "${missing[@]}" || skip "could not install ${missing[*]} (apt-get needs root or sudo, and Debian's package mirror)"
}

# usable_kernel reports whether kernel version $1 can boot the tests:
# its image is in /boot (readable, or copied with sudo: Ubuntu keeps it
# root's) and it has every module the scenarios load. It sets KIMAGE.
usable_kernel() {
	local v=$1 m
	[ -e "/boot/vmlinuz-$v" ] && [ -e "/lib/modules/$v/modules.dep" ] || return 1
	for m in "${MODULES[@]}"; do
		modprobe -S "$v" --show-depends "$m" >/dev/null 2>&1 || return 1
	done
	KIMAGE=/boot/vmlinuz-$v
	if [ ! -r "$KIMAGE" ]; then
		mkdir -p "$WORK"
		$SUDO cat "$KIMAGE" >"$WORK/vmlinuz" 2>/dev/null || return 1
		KIMAGE=$WORK/vmlinuz
	fi
}

# find_kernel sets KVER, KROOT (where lib/modules/$KVER lives) and KIMAGE
# to an installed kernel that has the modules, installing Debian's when
# there is none.
find_kernel() {
	local v try
	for try in installed install; do
		if [ $try = install ]; then
			apt_install linux-image-amd64 || skip "could not install linux-image-amd64 (a Debian kernel with the sound and USB gadget modules)"
		fi
		for v in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -rV); do
			if usable_kernel "$v"; then
				KVER=$v KROOT=/
				return
			fi
		done
	done
	skip "no kernel in /boot has all of ${MODULES[*]}"
}

# --- the image ------------------------------------------------------------

# copy_with_libs puts a dynamically linked program and what ldd lists
# into the image, at the same paths.
copy_with_libs() {
	local src=$1 dst=$2 lib
	install -D -m 755 "$src" "$ROOT$dst"
	for lib in $(ldd "$src" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$ROOT$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$ROOT$lib"
	done
}

build_image() {
	ROOT=$WORK/root
	rm -rf "$ROOT" && mkdir -p "$ROOT"/{bin,sbin,proc,sys,dev,tmp,etc,hwtest,usr/share/alsa}
	install -m 755 /bin/busybox "$ROOT/bin/busybox"
	install -m 755 hwtest/init "$ROOT/init"
	copy_with_libs bin/jambridge /bin/jambridge
	install -m 755 bin/jamrelay "$ROOT/bin/jamrelay"
	copy_with_libs "$(command -v amidi)" /bin/amidi
	copy_with_libs "$(command -v aconnect)" /bin/aconnect
	install -m 755 "$WORK/hwtest.test" "$ROOT/hwtest/hwtest.test"
	install -m 644 configs/daw.yaml "$ROOT/hwtest/daw.yaml"
	install -m 644 /usr/share/alsa/alsa.conf "$ROOT/usr/share/alsa/alsa.conf"
	printf '%s\n' "$@" >"$ROOT/hwtest/args"

	local mods=$ROOT/lib/modules/$KVER m f
	mkdir -p "$mods"
	for m in "${MODULES[@]}"; do
		for f in $(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'); do
			install -D -m 644 "$f" "$mods/${f#*/lib/modules/$KVER/}"
		done
	done
	cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$mods/" 2>/dev/null || true
	depmod -b "$ROOT" "$KVER"

	(cd "$ROOT" && find . | cpio -o -H newc -R 0:0 --quiet) >"$WORK/initramfs.cpio"
}

# --- run --------------------------------------------------------------------

# main runs it all: bash has read the whole function before it starts,
# so editing this file meanwhile cannot change a run.
main() {
	# The guest's go test flags: the arguments, or $HWTEST split at spaces.
	ARGS=("$@")
	if [ ${#ARGS[@]} = 0 ] && [ -n "${HWTEST:-}" ]; then
		read -r -a ARGS <<<"$HWTEST"
	fi

	need_tools
	find_kernel
	say "kernel $KVER, $(qemu-system-x86_64 --version | head -1)"

	say "building jambridge, jamrelay and the guest tests"
	$GO build -o bin/jambridge ./cmd/jambridge
	CGO_ENABLED=0 $GO build -o bin/jamrelay ./cmd/jamrelay
	mkdir -p "$WORK"
	CGO_ENABLED=0 $GO test -c -tags hwtest -o "$WORK/hwtest.test" ./hwtest
	$GO vet -tags hwtest ./hwtest

	build_image "${ARGS[@]}"
	say "image: $(du -h "$WORK/initramfs.cpio" | cut -f1); booting (TCG, up to ${TIMEOUT}s)"

	# no_timer_check: on a loaded host the emulated CPU can miss the few
	# timer ticks the kernel's early IO-APIC check counts, and the kernel
	# then panics ("IO-APIC + timer doesn't work!") before the tests start.
	KARGS='console=ttyS0 rdinit=/init quiet panic=-1 no_timer_check'
	ACCEL=(-accel tcg -cpu max)
	if [ "${HWTEST_KVM:-}" = 1 ]; then ACCEL=(-accel kvm -cpu host); fi
	LOG=$WORK/console.log
	set +e
	timeout --foreground "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" -m 1024 -smp 2 \
		-nographic -no-reboot -net none -monitor none -serial stdio \
		-kernel "$KIMAGE" -initrd "$WORK/initramfs.cpio" \
		-append "$KARGS" </dev/null | tee "$LOG"
	qemu=${PIPESTATUS[0]}
	set -e

	# qemu's own exit code says nothing about the tests: the guest's last word does.
	result=$(grep -a -o 'HWTEST EXIT [0-9]*' "$LOG" | tail -1 | awk '{print $3}' || true)
	if [ -z "$result" ]; then
		[ "$qemu" = 124 ] && say "FAIL: the VM did not finish within ${TIMEOUT}s (console: $LOG)" ||
			say "FAIL: the VM stopped before the tests reported (qemu exit $qemu; console: $LOG)"
		exit 1
	fi
	if [ "$result" != 0 ]; then
		say "FAIL: the tests in the VM failed (console: $LOG)"
		exit 1
	fi
	if grep -a -q 'no tests to run' "$LOG"; then
		say "FAIL: no test matched ${ARGS[*]} (subtest names have _ for spaces)"
		exit 1
	fi
	say "PASS"
}

main "$@"; exit # one line: bash reads it whole, so editing this file during a run cannot break its end
