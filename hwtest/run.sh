#!/usr/bin/env bash
# make test-hw: the bridge against a real ALSA sequencer and an emulated
# USB MIDI keyboard, in a virtual machine booted from Debian's own kernel.
#
#   hwtest/run.sh [go test flags for the guest, e.g. -test.run 'Permission|Ports']
#   HWTEST='-test.run JamSession' hwtest/run.sh      (the same, as make test-hw passes them)
#   HWTEST_ARCH=arm64 HWTEST_DEB=dist/jambridge_V_arm64.deb hwtest/run.sh   (make test-hw ARCH=arm64)
#
# It installs what is missing (qemu, busybox, alsa-utils, FluidSynth, a
# kernel image) from the machine's Debian packages (for arm64, the arm64
# packages are downloaded and unpacked, not installed), takes jambridge
# and jamrelay out of the Debian package HWTEST_DEB (or builds them for
# amd64 when it is not given), builds the guest test binary, packs them
# with busybox, the sound and USB gadget modules and the libraries they
# link into an initramfs, boots it under qemu (x86_64, or aarch64 -M virt)
# and checks the result the guest prints on its serial console.
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
ARCH=${HWTEST_ARCH:-amd64}
DEB=${HWTEST_DEB:-}
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

# Sound and USB modules the scenarios load, each with its dependencies
# (hwtest/alsa_test.go). Debian's arm64 kernel has no snd-virmidi: there
# the tests use USB gadgets as cables instead (hwtest/cable_test.go).
case $ARCH in
amd64)
	MODULES=(snd-seq-dummy snd-virmidi snd-seq-midi dummy_hcd libcomposite usb_f_midi snd-usb-audio)
	QEMU=qemu-system-x86_64 QEMU_PKG=qemu-system-x86
	;;
arm64)
	MODULES=(snd-seq-dummy snd-seq-midi dummy_hcd libcomposite usb_f_midi snd-usb-audio)
	QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm
	WORK=$WORK-arm64
	;;
*)
	echo "test-hw: ARCH=$ARCH: amd64 or arm64" >&2
	exit 1
	;;
esac
# The sound font of the FluidSynth scenario (amd64): General MIDI in 6 MB
# (fluid-soundfont-gm's 141 MB would make the image slow to pack and boot).
SOUNDFONT=/usr/share/sounds/sf2/TimGM6mb.sf2

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
# own), alsa-utils (amidi, aconnect) and, for amd64's FluidSynth
# scenario, fluidsynth and a small General MIDI sound font when missing.
need_tools() {
	command -v dpkg-query >/dev/null || skip "this is not a Debian/Ubuntu machine: install $QEMU_PKG, a static busybox and alsa-utils, and a Debian kernel image, by hand"
	local missing=() p pkgs=("$QEMU_PKG")
	[ "$ARCH" = amd64 ] && pkgs+=(busybox-static alsa-utils fluidsynth timgm6mb-soundfont)
	for p in "${pkgs[@]}"; do
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

# arm64_sysroot downloads Debian's arm64 kernel, static busybox,
# alsa-utils and the libraries the arm64 programs link, and unpacks them
# into $WORK/sysroot (once: kept for the next run). It sets KVER, KROOT
# and KIMAGE as find_kernel does.
arm64_sysroot() {
	local sys=$WORK/sysroot debs=$WORK/debs kpkg p
	if ! ls "$sys"/boot/vmlinuz-* >/dev/null 2>&1; then
		if ! dpkg --print-foreign-architectures | grep -qx arm64; then
			say "adding the arm64 architecture to dpkg (for its packages' lists)"
			$SUDO dpkg --add-architecture arm64 && $SUDO apt-get update -qq || skip "could not add the arm64 architecture to dpkg"
		fi
		kpkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
		[ -n "$kpkg" ] || { $SUDO apt-get update -qq; kpkg=$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends: linux-image-/ {print $2; exit}'); }
		[ -n "$kpkg" ] || skip "no arm64 kernel package in the package lists (linux-image-arm64:arm64)"
		say "downloading $kpkg, busybox-static, alsa-utils and their libraries (arm64)"
		rm -rf "$debs" "$sys" && mkdir -p "$debs" "$sys"
		(cd "$debs" && apt-get download -q=2 "${kpkg%:arm64}:arm64" busybox-static:arm64 alsa-utils:arm64 \
			libasound2:arm64 libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 2>/dev/null) || skip "could not download the arm64 packages"
		for p in "$debs"/*.deb; do dpkg-deb -x "$p" "$sys"; done
	fi
	KVER=$(ls -1 "$sys"/lib/modules | sort -V | tail -1) KROOT=$sys KIMAGE=$sys/boot/vmlinuz-$KVER
	[ -e "$sys/lib/modules/$KVER/modules.dep" ] || depmod -b "$sys" "$KVER"
	local m
	for m in "${MODULES[@]}"; do
		modprobe -d "$sys" -S "$KVER" --show-depends "$m" >/dev/null || skip "Debian's arm64 kernel $KVER has no $m"
	done
}

# binaries puts jambridge and jamrelay in $BINS: out of the Debian package
# when one is given (the package is what is tested), built for amd64
# otherwise.
binaries() {
	if [ -n "$DEB" ]; then
		[ "$(dpkg-deb -f "$DEB" Architecture)" = "$ARCH" ] || { say "FAIL: $DEB is not a package for $ARCH"; exit 1; }
		say "jambridge and jamrelay from $DEB"
		rm -rf "$WORK/pkg" && dpkg-deb -x "$DEB" "$WORK/pkg"
		BINS=$WORK/pkg/usr/bin
		return
	fi
	[ "$ARCH" = amd64 ] || { say "FAIL: ARCH=$ARCH needs HWTEST_DEB, the package to test (make test-hw ARCH=$ARCH makes it)"; exit 1; }
	say "building jambridge and jamrelay"
	$GO build -o bin/jambridge ./cmd/jambridge
	CGO_ENABLED=0 $GO build -o bin/jamrelay ./cmd/jamrelay
	BINS=bin
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

# copy_arm64 puts an arm64 program into the image with the dynamic loader
# and the libraries it needs (readelf, recursively: ldd cannot run it),
# found in the unpacked arm64 packages.
copy_arm64() {
	install -D -m 755 "$1" "$ROOT$2"
	if readelf -l "$1" | grep -q 'interpreter: /lib/ld-linux-aarch64.so.1'; then
		[ -e "$ROOT/lib/ld-linux-aarch64.so.1" ] ||
			install -D -m 755 "$(readlink -f "$WORK/sysroot/lib/ld-linux-aarch64.so.1")" "$ROOT/lib/ld-linux-aarch64.so.1"
	fi
	copy_arm64_libs "$1"
}

copy_arm64_libs() {
	local lib dir found
	for lib in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$ROOT/lib/aarch64-linux-gnu/$lib" ] && continue
		found=
		for dir in "$WORK/sysroot/lib/aarch64-linux-gnu" "$WORK/sysroot/usr/lib/aarch64-linux-gnu"; do
			[ -e "$dir/$lib" ] && found=$(readlink -f "$dir/$lib") && break
		done
		[ -n "$found" ] || { say "FAIL: $lib (needed by $1) is in none of the arm64 packages unpacked"; exit 1; }
		install -D -m 755 "$found" "$ROOT/lib/aarch64-linux-gnu/$lib"
		copy_arm64_libs "$found"
	done
}

build_image() {
	ROOT=$WORK/root
	rm -rf "$ROOT" && mkdir -p "$ROOT"/{bin,sbin,proc,sys,dev,tmp,etc,hwtest,usr/share/alsa}
	install -m 755 hwtest/init "$ROOT/init"
	install -m 755 "$BINS/jamrelay" "$ROOT/bin/jamrelay"
	if [ "$ARCH" = arm64 ]; then
		install -m 755 "$WORK/sysroot/bin/busybox" "$ROOT/bin/busybox"
		copy_arm64 "$BINS/jambridge" /bin/jambridge
		copy_arm64 "$WORK/sysroot/usr/bin/amidi" /bin/amidi
		copy_arm64 "$WORK/sysroot/usr/bin/aconnect" /bin/aconnect
	else
		install -m 755 /bin/busybox "$ROOT/bin/busybox"
		copy_with_libs "$BINS/jambridge" /bin/jambridge
		copy_with_libs "$(command -v amidi)" /bin/amidi
		copy_with_libs "$(command -v aconnect)" /bin/aconnect
		copy_with_libs "$(command -v fluidsynth)" /bin/fluidsynth
		install -m 644 "$SOUNDFONT" "$ROOT/hwtest/gm.sf2"
	fi
	install -m 755 "$WORK/hwtest.test" "$ROOT/hwtest/hwtest.test"
	install -m 644 configs/daw.yaml "$ROOT/hwtest/daw.yaml"
	install -m 644 configs/raspberry-pi.yaml "$ROOT/hwtest/raspberry-pi.yaml"
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

	# The FluidSynth scenario runs in the amd64 VM only (its ~60
	# libraries are the host's amd64 ones).
	[ "$ARCH" = arm64 ] && ARGS+=(-test.skip FluidSynth)

	need_tools
	mkdir -p "$WORK"
	if [ "$ARCH" = arm64 ]; then arm64_sysroot; else find_kernel; fi
	say "$ARCH: kernel $KVER, $($QEMU --version | head -1)"

	binaries
	say "building the guest tests"
	CGO_ENABLED=0 GOARCH=$ARCH $GO test -c -tags hwtest -o "$WORK/hwtest.test" ./hwtest
	$GO vet -tags hwtest ./hwtest

	build_image "${ARGS[@]}"
	say "image: $(du -h "$WORK/initramfs.cpio" | cut -f1); booting (TCG, up to ${TIMEOUT}s)"

	# no_timer_check: on a loaded host the emulated CPU can miss the few
	# timer ticks the kernel's early IO-APIC check counts, and the kernel
	# then panics ("IO-APIC + timer doesn't work!") before the tests start.
	KARGS='console=ttyS0 rdinit=/init quiet panic=-1 no_timer_check'
	ACCEL=(-accel tcg -cpu max)
	if [ "${HWTEST_KVM:-}" = 1 ]; then ACCEL=(-accel kvm -cpu host); fi
	if [ "$ARCH" = arm64 ]; then
		# The virt board's PL011 UART is the console. pauth-impdef: TCG
		# emulates pointer authentication with a cheap hash instead of
		# QARMA (the kernel uses it on every call), several times faster.
		KARGS='console=ttyAMA0 rdinit=/init quiet panic=-1'
		ACCEL=(-machine virt -accel tcg -cpu max,pauth-impdef=on)
	fi
	LOG=$WORK/console.log
	set +e
	timeout --foreground "$TIMEOUT" $QEMU "${ACCEL[@]}" -m 1024 -smp 2 \
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
